#!/usr/bin/env python
"""Write Moorage's OpenAPI schema and the Python client generated from it.

    python scripts/generate_client.py           # (make client) rewrite clients/
    python scripts/generate_client.py --check   # (make client-check) fail if clients/ is stale

The schema comes from ``app.main.create_app().openapi()``: no server or database is
needed. The client is made by openapi-python-client (config in
clients/openapi-python-client.yaml) as an installable project in clients/python: the
package ``moorage_client`` plus its pyproject.toml and README.md, which come from our
templates in clients/templates (so `pip install ./clients/python` works and the check
covers the packaging too).
"""

from __future__ import annotations

import argparse
import filecmp
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "clients"
SCHEMA = CLIENTS / "openapi.json"
CONFIG = CLIENTS / "openapi-python-client.yaml"
TEMPLATES = CLIENTS / "templates"
PROJECT = CLIENTS / "python"
BIN = Path(sys.executable).parent


def schema_text() -> str:
    """The schema as committed: settings from a throwaway environment, not the caller's."""
    for key in [k for k in os.environ if k.startswith("MOORAGE_")]:
        del os.environ[key]
    os.environ["MOORAGE_DATA_DIR"] = tempfile.mkdtemp(prefix="moorage-schema-")
    sys.path.insert(0, str(ROOT))
    from app.main import create_app

    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"


def generate(schema: Path, out: Path) -> None:
    """openapi-python-client into ``out`` (the project directory), warnings are errors.

    Any ``--meta`` but ``none`` (and ``setup``, which adds a setup.py) writes
    pyproject.toml and README.md; ours override both templates, so the build backend is
    setuptools (no uv, pdm or poetry needed to install it)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "openapi-python-client"), "generate", "--path", str(schema),
           "--config", str(CONFIG), "--meta", "uv", "--custom-template-path", str(TEMPLATES),
           "--output-path", str(out), "--overwrite", "--fail-on-warning"]
    done = subprocess.run(cmd, env=env, cwd=out.parent, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"openapi-python-client failed:\n{done.stdout}\n{done.stderr}")


# What a build or an install leaves in the project (pip builds in the tree), not generated.
NOT_GENERATED = ("__pycache__", ".ruff_cache", "build", "dist", "*.egg-info")


def differences(a: Path, b: Path, rel: Path = Path()) -> list[str]:
    """Files that differ between directory trees ``a`` and ``b`` (build leftovers ignored)."""
    cmp = filecmp.dircmp(a, b, ignore=[])
    only = [n for n in cmp.left_only + cmp.right_only + cmp.funny_files
            if not any(fnmatch.fnmatch(n, p) for p in NOT_GENERATED)]
    out = [str(rel / n) for n in only]
    out += [str(rel / n) for n in cmp.common_files
            if (a / n).read_bytes() != (b / n).read_bytes()]
    for sub in cmp.common_dirs:
        if any(fnmatch.fnmatch(sub, p) for p in NOT_GENERATED):
            continue
        out += differences(a / sub, b / sub, rel / sub)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temp dir and fail if clients/ differs")
    args = parser.parse_args()
    text = schema_text()
    with tempfile.TemporaryDirectory(prefix="moorage-client-") as tmp:
        schema = Path(tmp) / "openapi.json"
        schema.write_text(text, encoding="utf-8")
        fresh = Path(tmp) / "python"
        generate(schema, fresh)
        if args.check:
            stale = []
            if not SCHEMA.exists() or SCHEMA.read_text(encoding="utf-8") != text:
                stale.append("clients/openapi.json")
            if PROJECT.is_dir():
                stale += [f"clients/python/{p}" for p in differences(PROJECT, fresh)]
            else:
                stale.append("clients/python/")
            if stale:
                sys.exit("error: the generated client is stale; run `make client` and commit "
                         "clients/. Differing:\n  " + "\n  ".join(sorted(stale)))
            print("clients/ is up to date")
            return
        SCHEMA.write_text(text, encoding="utf-8")
        shutil.rmtree(PROJECT, ignore_errors=True)
        shutil.copytree(fresh, PROJECT, ignore=shutil.ignore_patterns(*NOT_GENERATED))
        print(f"wrote {SCHEMA.relative_to(ROOT)} and {PROJECT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
