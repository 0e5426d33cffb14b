"""Image references, parsed the way Docker does: pure functions, no I/O.

``nginx:1.27`` is ``docker.io/library/nginx`` at tag ``1.27``; the first path component
names a registry only when it looks like a host (has a dot or a port, or is
``localhost``). Webhooks use this to match a push to a deployment's repository, and
pulls to find the registry whose credentials apply.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCKER_HUB = "docker.io"
# The names Docker Hub goes by; credentials for any of them are Docker Hub's.
_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")
# What the engine expects as `serveraddress` for Docker Hub credentials.
_HUB_SERVER_ADDRESS = "https://index.docker.io/v1/"


@dataclass(frozen=True)
class Ref:
    """A parsed image reference. ``name`` is the reference as written, minus tag and
    digest; ``domain``/``path`` are normalized the way Docker does (``nginx`` is
    ``docker.io/library/nginx``)."""

    name: str
    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        return f"{self.domain}/{self.path}"


def split_reference(ref: str) -> Ref:
    name, digest = ref, None
    if "@" in name:
        name, digest = name.split("@", 1)
    tag = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        domain, path = first.lower(), rest
    else:
        domain, path = DOCKER_HUB, name
    domain = normalize_registry(domain)
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return Ref(name=name, domain=domain, path=path.lower(), tag=tag or None, digest=digest)


def normalize_registry(registry: str) -> str:
    """The one spelling a registry's credentials are stored under."""
    registry = registry.lower()
    return DOCKER_HUB if registry in _HUB_ALIASES else registry


def registry_of(image: str) -> str:
    """The registry an image is pulled from: ``ghcr.io``, ``127.0.0.1:5000``, ``docker.io``."""
    return split_reference(image).domain


def server_address(registry: str) -> str:
    """How the engine names a registry in credentials (Docker Hub keeps its v1 URL)."""
    return _HUB_SERVER_ADDRESS if registry == DOCKER_HUB else registry
