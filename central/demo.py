"""``make demo``: a local central service plus a kiosk registered with it, so a newcomer
sees a report travel from the touchscreen to the central system.

Everything lives in a fresh temporary folder; closing the kiosk window stops both.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from central.crypto import new_key_file
from central.db import Database, migrate
from central.service import add_kiosk

ROOT = Path(__file__).resolve().parent.parent


def kiosk_config(folder: Path, central: str, token: str) -> str:
    """The demo kiosk's config file: registered with the demo central, and its receipts'
    QR code and printed address opening the central's public status page."""
    return (f'data_dir = "{folder / "kiosk"}"\nkiosk_code = "DM01"\n'
            f'kiosk_location = "Demo: Mal Pelayanan Publik Muara Teweh"\n'
            f'central_url = "{central}"\ncentral_token = "{token}"\n'
            f'status_base_url = "{central}/status"\n')


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="lapor-demo-"))
    url = f"sqlite:///{folder / 'central.sqlite3'}"
    db = Database(url)
    migrate(db.engine)
    token = add_kiosk(db, "DM01", "Demo: Mal Pelayanan Publik Muara Teweh")
    db.close()
    key = folder / "secret.key"  # seals the officers' TOTP secrets (docs/DEPLOY.md, "The secret key")
    new_key_file(str(key))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    central = subprocess.Popen([sys.executable, "-m", "central", "--database-url", url, "--secret-key-file", str(key),
                                "serve", "--port", str(port), "--docs"],
                               cwd=ROOT, stderr=subprocess.PIPE, text=True)
    for line in central.stderr:
        if "Uvicorn running on" in line:
            break
    config = folder / "kiosk.toml"
    config.write_text(kiosk_config(folder, f"http://127.0.0.1:{port}", token), encoding="utf-8")
    print(f"""
Demo folder: {folder}
Central service: http://127.0.0.1:{port}  (API docs at /docs)
File a report on the kiosk; within seconds Welcome shows it sent ("Daring · 0 menunggu dikirim").
Its receipt (in {folder / "kiosk" / "receipts"}) points at http://127.0.0.1:{port}/status/<TRACKING ID>.
Then, in another terminal:
  {sys.executable} -m central --database-url {url} report <TRACKING ID> verify --actor you
  {sys.executable} -m kiosk --config {config} queue --all
The officers' workbench: http://127.0.0.1:{port}/workbench/ after
  {sys.executable} -m central --database-url {url} officer add "Admin Demo" --role admin
(the first login shows a QR code for the authenticator app).
""", flush=True)
    try:
        return subprocess.call([sys.executable, "-m", "kiosk", "--config", str(config), "run"], cwd=ROOT)
    finally:
        central.terminate()
        central.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
