"""Where the client commands find Moorage: named contexts in a config file, like
kubectl's and nomad's, and MOORAGE_URL / MOORAGE_TOKEN over them.

The file (``$MOORAGE_CONFIG``, else ``$XDG_CONFIG_HOME/moorage/config.yaml``, else
``~/.config/moorage/config.yaml``) holds tokens, so it is written readable by its owner
only (0600, in a 0700 directory), and rewritten whole through a temporary file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

DEFAULT_URL = "http://127.0.0.1:8000"


def config_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("MOORAGE_CONFIG"):
        return Path(env["MOORAGE_CONFIG"])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "moorage" / "config.yaml"


@dataclass(frozen=True)
class Context:
    url: str
    token: str | None = None


@dataclass
class Config:
    current: str | None = None
    contexts: dict[str, Context] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Config:
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            raise ValueError("not a mapping")
        contexts = {}
        for name, ctx in (data.get("contexts") or {}).items():
            if not isinstance(ctx, dict) or not isinstance(ctx.get("url"), str):
                raise ValueError(f"context {name!r} has no url")
            contexts[str(name)] = Context(url=ctx["url"], token=ctx.get("token"))
        return cls(current=data.get("current-context"), contexts=contexts)

    def dump(self) -> str:
        data = {"current-context": self.current,
                "contexts": {n: {"url": c.url, **({"token": c.token} if c.token else {})}
                             for n, c in sorted(self.contexts.items())}}
        return yaml.safe_dump(data, sort_keys=False)

    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        try:
            return cls.parse(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: not a Moorage config file ({exc})") from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(self.dump())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def context_name_for(url: str) -> str:
    """A context's default name: the server's host and port (``127.0.0.1-8000``)."""
    parts = urlsplit(url)
    name = (parts.hostname or "default") + (f"-{parts.port}" if parts.port else "")
    return name.replace(":", "-")


@dataclass(frozen=True)
class Target:
    """What a command talks to, and where each part came from (for error messages)."""

    url: str
    token: str | None
    context: str | None


def resolve(config: Config, context: str | None, env: dict[str, str] | None = None) -> Target:
    """The context named (``--context`` / MOORAGE_CONTEXT), else the current one; then
    MOORAGE_URL and MOORAGE_TOKEN win over its values."""
    env = os.environ if env is None else env
    name = context or env.get("MOORAGE_CONTEXT") or config.current
    chosen = None
    if name is not None:
        chosen = config.contexts.get(name)
        if chosen is None and (context or env.get("MOORAGE_CONTEXT")):
            raise KeyError(name)
    url = (env.get("MOORAGE_URL") or (chosen.url if chosen else DEFAULT_URL)).rstrip("/")
    token = env.get("MOORAGE_TOKEN")
    if token is None and chosen is not None and chosen.url.rstrip("/") == url:
        token = chosen.token  # never a context's token to another server's MOORAGE_URL
    return Target(url=url, token=token, context=name if chosen else None)
