"""The layers run one way, and the check that says so really fails on an upward import.

``make test`` runs ``lint-imports`` on the tree (pyproject.toml, [tool.importlinter]).
These tests run it on a copy of the product's packages, once as it is and once with one
deliberate upward import, so the contracts cannot silently stop checking anything.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import ROOT

PACKAGES = ("kiosk", "screens", "devices", "sync_queue", "central", "assets", "benchmarks")


def _copy_of_the_tree(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _lint(tree: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120)


def _add_import(module: Path, statement: str) -> None:
    text = module.read_text(encoding="utf-8")
    marker = "from __future__ import annotations\n"
    assert marker in text, module
    module.write_text(text.replace(marker, marker + statement + "\n", 1), encoding="utf-8")


def test_the_tree_keeps_every_contract(tmp_path):
    result = _lint(_copy_of_the_tree(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:]
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize("module, statement, contract", [
    ("kiosk/core/flow.py", "import kiosk.runtime.env  # noqa", "Layers"),
    ("kiosk/kernel/tracking_id.py", "import sync_queue.outbox  # noqa", "Layers"),
    ("sync_queue/client.py", "import devices.qr  # noqa", "Layers"),
    ("central/service.py", "import kiosk.core.reports  # noqa", "central service imports only the shared kernel"),
    ("kiosk/core/idle.py", "import kivy.clock  # noqa", "Only screens/ imports Kivy"),
    ("kiosk/kernel/clock.py", "import kiosk.kernel.i18n  # noqa", "No import cycles"),
])
def test_an_upward_import_breaks_the_build(tmp_path, module, statement, contract):
    """GIVEN a copy of the tree with one import against the direction of the layers
    WHEN the contracts are checked
    THEN the check fails and names the contract that was broken."""
    tree = _copy_of_the_tree(tmp_path)
    if contract == "No import cycles":  # a cycle needs both directions: i18n -> clock too
        _add_import(tree / "kiosk/kernel/i18n.py", "import kiosk.kernel.clock  # noqa")
    _add_import(tree / module, statement)
    result = _lint(tree)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout[-3000:]
