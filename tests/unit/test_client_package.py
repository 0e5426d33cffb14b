"""clients/python is an installable package: what its code imports is what it declares."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2] / "clients" / "python"
# Import names of the distributions a generated client may need.
DISTRIBUTION_OF = {"httpx": "httpx", "attrs": "attrs", "dateutil": "python-dateutil"}


def third_party_imports() -> set[str]:
    names = set()
    for path in (PROJECT / "moorage_client").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "moorage_client"}


def declared(pyproject: Path) -> set[str]:
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return {re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower() for d in deps}


def test_the_client_declares_what_it_imports() -> None:
    imported = third_party_imports()
    assert imported, "no imports found: wrong directory?"
    assert imported <= DISTRIBUTION_OF.keys(), f"unknown imports {imported - DISTRIBUTION_OF.keys()}"
    needed = {DISTRIBUTION_OF[n] for n in imported}
    assert needed <= declared(PROJECT / "pyproject.toml")
    # moorage ships the client too (setuptools find over clients/python), so it declares them as well.
    assert needed <= declared(PROJECT.parents[1] / "pyproject.toml")


def test_the_package_has_its_readme_and_build_backend() -> None:
    meta = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "moorage-client"
    assert meta["build-system"]["build-backend"] == "setuptools.build_meta"
    assert "deploy" in (PROJECT / "README.md").read_text(encoding="utf-8").lower()
