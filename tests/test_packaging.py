"""pyproject.toml packs everything the code reads at run time (a non-editable install has only that).

The full check is a non-editable install into a fresh virtualenv (`python3 -m venv /tmp/v &&
/tmp/v/bin/pip install .`, then `omr form list`, `omr user add`, `omr serve` from another folder);
this one is quick: every
folder of Python code is a package of the distribution, and every non-Python file the service or
the engine reads is package data.
"""
from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
TOP = ("omr", "service", "review_ui", "form_templates", "samples")


def _packages() -> set[str]:
    find = CONFIG["packages"]["find"]
    return set(find_namespace_packages(where=str(ROOT), include=find["include"], exclude=find.get("exclude", [])))


def _packed(path: Path) -> bool:
    rel = path.relative_to(ROOT)
    package = ".".join(rel.parent.parts)
    return any(fnmatch.fnmatch(rel.name, g) for g in CONFIG["package-data"].get(package, []))


def test_every_code_folder_is_a_package():
    packages = _packages()
    for top in TOP:
        for init in (ROOT / top).rglob("__init__.py"):
            assert ".".join(init.parent.relative_to(ROOT).parts) in packages, init
    assert {"service.routers", "service.migrations", "service.migrations.versions", "review_ui.static"} <= packages
    assert not {p for p in packages if p.split(".")[0] not in TOP or p.startswith("samples.demo")}, packages


def test_run_time_files_are_package_data():
    needed = [
        *(ROOT / "review_ui" / "static").iterdir(),  # the reviewers' pages (service/app.py UI_DIR)
        ROOT / "service" / "migrations" / "script.py.mako",  # Alembic (service/db.py MIGRATIONS)
        *(ROOT / "form_templates").glob("*.yaml"),  # the questionnaires (omr/template.py TEMPLATES_DIR)
    ]
    assert len(needed) > 6
    for f in needed:
        if f.is_file() and f.suffix != ".py":
            assert _packed(f), f"{f.relative_to(ROOT)} is read at run time but not in [tool.setuptools.package-data]"


def test_data_folders_beside_the_code_are_not_packed(tmp_path):
    """The demo leaves omr-data/ (the service's files) and out/ in the checkout: neither is a package,
    whichever order the README's two commands run in."""
    for d in ("omr", "omr/sub", "service", "omr-data/files/ab", "omr-data/pages", "out", "omr_backup", "samples/demo"):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    for d in ("omr", "omr/sub", "service"):
        (tmp_path / d / "__init__.py").write_text("")
    find = CONFIG["packages"]["find"]
    found = set(find_namespace_packages(where=str(tmp_path), include=find["include"], exclude=find.get("exclude", [])))
    assert {"omr", "omr.sub", "service"} <= found
    assert not {p for p in found if p.split(".")[0] not in TOP or p.startswith("samples.demo")}, found
