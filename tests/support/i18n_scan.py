"""Find every translatable msgid in the sources (.py and .kv), for the catalog tests.

A msgid is the first string literal of ``_(...)``, ``N_(...)``, ``gettext(...)``,
``tr(lang, ...)`` or ``self.tr(...)``; in a Jinja2 template (``.html``), of ``_("...")``.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("kiosk", "screens", "devices", "sync_queue", "central")
_HTML_CALL = re.compile(r"""\b_\(\s*(?P<q>['"])(?P<msg>(?:(?!(?P=q)).)*)(?P=q)""", re.S)
_KV_CALL = re.compile(r"""\btr\(\s*app\.lang\s*,\s*(?P<q>['"])(?P<msg>(?:\\.|(?!(?P=q)).)*)(?P=q)""")


def _py_msgids(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        args = node.args
        if name in ("_", "N_", "gettext") and args:
            first = args[0]
        elif name == "tr" and args:
            first = args[1] if isinstance(func, ast.Name) and len(args) > 1 else args[0]
        else:
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.add(first.value)
    return found


def _kv_msgids(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return {m.group("msg").encode().decode("unicode_escape") for m in _KV_CALL.finditer(text)}


def _html_msgids(path: Path) -> set[str]:
    return {m.group("msg") for m in _HTML_CALL.finditer(path.read_text(encoding="utf-8"))}


def source_msgids() -> dict[str, set[Path]]:
    """Each msgid with the files that use it."""
    out: dict[str, set[Path]] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix == ".py":
                ids = _py_msgids(path)
            elif path.suffix == ".kv":
                ids = _kv_msgids(path)
            elif path.suffix == ".html":
                ids = _html_msgids(path)
            else:
                continue
            for msgid in ids:
                out.setdefault(msgid, set()).add(path.relative_to(ROOT))
    return out


if __name__ == "__main__":
    for msgid in sorted(source_msgids()):
        print(repr(msgid))
