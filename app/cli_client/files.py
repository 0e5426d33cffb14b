"""Reading deployment files for ``apply`` and ``diff``: YAML or JSON, one deployment per
document (``---`` separates several), each a spec with its ``name``. YAML is read as
Docker Compose reads it, as stacks are (``app.yaml12``: `yes` and `on` are strings)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from app import yaml12


class FileError(ValueError):
    pass


def read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def parse_deployments(text: str, source: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, spec) for each document; JSON is read as JSON for its precise errors."""
    try:
        if source.endswith(".json"):
            documents = [json.loads(text)]
        else:
            documents = [d for d in yaml12.load_all(text) if d is not None]
    except (ValueError, yaml.YAMLError) as exc:  # UnicodeError is a ValueError
        raise FileError(f"{source}: not valid {'JSON' if source.endswith('.json') else 'YAML'}: {exc}") from exc
    if not documents:
        raise FileError(f"{source}: no deployment in it")
    out = []
    for i, doc in enumerate(documents, 1):
        where = source if len(documents) == 1 else f"{source} (document {i})"
        if not isinstance(doc, dict):
            raise FileError(f"{where}: a deployment is a mapping with `name` and its spec")
        if "services" in doc and "image" not in doc:
            raise FileError(f"{where} looks like a Compose file: apply it as a stack with "
                            "`--stack NAME`")
        name = doc.get("name")
        if not isinstance(name, str) or not name:
            raise FileError(f"{where}: needs a `name` (the deployment's name)")
        spec = {k: v for k, v in doc.items() if k != "name"}
        out.append((name, spec))
    return out
