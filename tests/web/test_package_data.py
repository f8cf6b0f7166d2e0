"""Every file the dashboard serves is declared as package data, so the wheel ships it."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_web_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["switchboard.web"]
    web = ROOT / "switchboard" / "web"
    served = [
        p.relative_to(web).as_posix()
        for p in web.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc")
    ]
    assert "index.html" in served and "assets/vendor/uPlot.iife.min.js" in served
    assert [f for f in served if not any(fnmatch(f, pat) for pat in patterns)] == []
