"""Data shipped with the kiosk and the central service.

A package (not a loose folder) so that :mod:`importlib.resources` finds the files in an
editable install, a wheel installed with ``pip install .``, and the PyInstaller bundle.
"""
from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def seed_file(name: str = "barito_utara.json") -> Traversable:
    """The seed reference data (categories, agencies, kecamatan) of one kabupaten."""
    return resources.files(__name__) / "seed" / name
