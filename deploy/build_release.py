"""Makes the signing key and the signed releases ``kiosk upgrade`` installs (docs/DEPLOY.md, "Update").

    python deploy/build_release.py keygen --private release.key --public release.pub
    python deploy/build_release.py build --key release.key --out dist/release [--with-runtime]

``build`` takes a bundle (``make bundle``: dist/kiosk) and writes into ``--out``:

- ``lapor-kiosk-code-<version>.tar.gz``: app/, the kiosk's own code and data, compiled;
- with ``--with-runtime``, ``lapor-kiosk-runtime-<id>.tar.gz``: the program and _internal/
  (a kiosk that already has this runtime never downloads it);
- ``manifest.json``: the version, the runtime the code needs, the store revisions the
  code's migrations know, and each archive's size and SHA-256;
- ``manifest.json.sig``: the manifest's Ed25519 signature (base64).

Runs with the Python of the build's venv (the runtime's Python: the .pyc must match it).
"""
from __future__ import annotations

import argparse
import compileall
import gzip
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.runtime.upgrade import MANIFEST, MANIFEST_FORMAT, SIGNATURE, sha256_of, sign_manifest  # noqa: E402

_REVISION = re.compile(r'^revision\s*(?::\s*str\s*)?=\s*["\']([^"\']+)["\']', re.MULTILINE)


def keygen(private: Path, public: Path) -> None:
    """A new Ed25519 key pair: the private key (PKCS#8 PEM, mode 0600, never over a file)
    stays with whoever signs releases; the public one goes to every kiosk."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))


def _load_private(path: Path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        sys.exit(f"build_release: {path} is not an Ed25519 private key")
    return key


def _metadata(app: Path) -> Path:
    found = sorted(app.glob("lapor_kiosk-*.dist-info"))
    if len(found) != 1:
        sys.exit(f"build_release: {app} has no single lapor_kiosk-*.dist-info (built by kiosk.spec?)")
    return found[0]


def _set_version(app: Path, version: str) -> None:
    """The version the heartbeat reports is the release's."""
    old = _metadata(app)
    new = app / f"lapor_kiosk-{version}.dist-info"
    text = re.sub(r"^Version: .*$", f"Version: {version}", (old / "METADATA").read_text(encoding="utf-8"),
                  flags=re.MULTILINE)
    old.rename(new)
    (new / "METADATA").write_text(text, encoding="utf-8")


def _tar_gz(target: Path, base: Path, names: list[str]) -> None:
    """A reproducible archive: sorted, owned by root, dated 0 (gzip without a name or date)."""
    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = 0
        return info

    with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in names:
            for path in [base / name] + sorted((base / name).rglob("*") if (base / name).is_dir() else []):
                tar.add(path, arcname=str(path.relative_to(base)), recursive=False, filter=clean)


def schema_revisions(app: Path) -> list[str]:
    """Every store revision the code's migrations know."""
    versions = app / "kiosk" / "core" / "store" / "migrations" / "versions"
    found = [m.group(1) for f in sorted(versions.glob("*.py")) if (m := _REVISION.search(f.read_text("utf-8")))]
    if not found:
        sys.exit(f"build_release: no migrations in {versions}")
    return found


def build(bundle: Path, key_file: Path, out: Path, *, version: str | None = None, with_runtime: bool = False) -> Path:
    """The release of ``bundle`` into ``out``; returns the manifest's path."""
    runtime_info = json.loads((bundle / "runtime.json").read_text(encoding="utf-8"))
    if runtime_info["python"].rsplit(".", 1)[0] != "%d.%d" % sys.version_info[:2]:
        sys.exit(f"build_release: the runtime's Python is {runtime_info['python']}, this one {sys.version.split()[0]}")
    key = _load_private(key_file)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch)
        shutil.copytree(bundle / "app", staged / "app", ignore=shutil.ignore_patterns("__pycache__"))
        if version:
            _set_version(staged / "app", version)
        version = _metadata(staged / "app").name[len("lapor_kiosk-"):-len(".dist-info")]
        if not compileall.compile_dir(staged / "app", quiet=1,
                                      invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH):
            sys.exit("build_release: the code does not compile")
        revisions = schema_revisions(staged / "app")
        code = out / f"lapor-kiosk-code-{version}.tar.gz"
        _tar_gz(code, staged, ["app"])
    archives = [("code", code)]
    if with_runtime:
        runtime = out / f"lapor-kiosk-runtime-{runtime_info['runtime']}.tar.gz"
        if not runtime.is_file():  # the same runtime, the same archive
            _tar_gz(runtime, bundle, ["kiosk", "_internal", "runtime.json"])
        archives.append(("runtime", runtime))
    manifest = {
        "format": MANIFEST_FORMAT, "version": version, "runtime": runtime_info["runtime"],
        "schema_revisions": revisions,
        "archives": [{"kind": kind, "name": path.name, "sha256": sha256_of(path), "size": path.stat().st_size}
                     for kind, path in archives],
    }
    raw = (json.dumps(manifest, indent=1) + "\n").encode()
    (out / MANIFEST).write_bytes(raw)
    (out / SIGNATURE).write_bytes(sign_manifest(raw, key))
    return out / MANIFEST


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    keys = sub.add_parser("keygen", help="make the release signing key pair")
    keys.add_argument("--private", type=Path, required=True)
    keys.add_argument("--public", type=Path, required=True)
    release = sub.add_parser("build", help="sign a release of a built bundle")
    release.add_argument("--bundle", type=Path, default=ROOT / "dist" / "kiosk")
    release.add_argument("--key", type=Path, required=True, help="the private key (keygen)")
    release.add_argument("--out", type=Path, required=True)
    release.add_argument("--version", help="the release's version (default: the package's)")
    release.add_argument("--with-runtime", action="store_true", help="carry the runtime too (a first install, "
                                                                     "or new dependencies)")
    args = parser.parse_args(argv)
    if args.command == "keygen":
        keygen(args.private, args.public)
        print(f"private key {args.private} (keep it off the kiosks), public key {args.public} "
              "(to /etc/lapor-kiosk/release.pub on every kiosk)")
        return 0
    manifest = build(args.bundle, args.key, args.out, version=args.version, with_runtime=args.with_runtime)
    for archive in json.loads(manifest.read_text(encoding="utf-8"))["archives"]:
        print(f"{archive['name']}: {archive['size'] / 1e6:.1f} MB")
    print(f"signed {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
