#!/usr/bin/env python
"""Write Moorage's OpenAPI schema and the Python client generated from it.

    python scripts/generate_client.py           # (make client) rewrite clients/
    python scripts/generate_client.py --check   # (make client-check) fail if clients/ is stale

The schema comes from ``app.main.create_app().openapi()``: no server or database is
needed. The client is made by openapi-python-client (config in
clients/openapi-python-client.yaml) as the package ``moorage_client`` in
clients/python/moorage_client; put clients/python on sys.path to import it.
"""

from __future__ import annotations

import argparse
import filecmp
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
PACKAGE = CLIENTS / "python" / "moorage_client"
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
    """openapi-python-client into ``out`` (the package directory), warnings are errors."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "openapi-python-client"), "generate", "--path", str(schema),
           "--config", str(CONFIG), "--meta", "none", "--output-path", str(out),
           "--overwrite", "--fail-on-warning"]
    done = subprocess.run(cmd, env=env, cwd=out.parent, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"openapi-python-client failed:\n{done.stdout}\n{done.stderr}")


def differences(a: Path, b: Path, rel: Path = Path()) -> list[str]:
    """Files that differ between directory trees ``a`` and ``b`` (caches ignored)."""
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__", ".ruff_cache"])
    out = [str(rel / n) for n in cmp.left_only + cmp.right_only + cmp.funny_files]
    out += [str(rel / n) for n in cmp.common_files
            if (a / n).read_bytes() != (b / n).read_bytes()]
    for sub in cmp.common_dirs:
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
        fresh = Path(tmp) / "python" / "moorage_client"
        fresh.parent.mkdir()
        generate(schema, fresh)
        if args.check:
            stale = []
            if not SCHEMA.exists() or SCHEMA.read_text(encoding="utf-8") != text:
                stale.append("clients/openapi.json")
            if PACKAGE.is_dir():
                stale += [f"clients/python/moorage_client/{p}" for p in differences(PACKAGE, fresh)]
            else:
                stale.append("clients/python/moorage_client/")
            if stale:
                sys.exit("error: the generated client is stale; run `make client` and commit "
                         "clients/. Differing:\n  " + "\n  ".join(sorted(stale)))
            print("clients/ is up to date")
            return
        SCHEMA.write_text(text, encoding="utf-8")
        shutil.rmtree(PACKAGE, ignore_errors=True)
        PACKAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(fresh, PACKAGE, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"))
        print(f"wrote {SCHEMA.relative_to(ROOT)} and {PACKAGE.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
