"""A revision's image on the hosts: resolve (pin) the tag, pull it where it is missing,
with the registry credentials that apply, and tell the deployment's events how it goes."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from functools import cached_property

from app.caches import BoundedCache
from app.db import session_scope
from app.dockerhost import (
    EngineClient,
    EngineError,
    ImageInfo,
    PermanentEngineError,
    TemporaryEngineError,
)
from app.repositories import events as event_repo
from app.services import registries
from app.services.registries import PullAuth

# Creates on one host that need the same image share one pull. A fixed array of locks,
# picked by hash: bounded, and two images that share a lock merely pull one after the other.
_pull_locks = tuple(threading.Lock() for _ in range(64))
# A registry that is down is asked again after a growing pause (like Kubernetes'
# ImagePullBackOff), not on every pass: (host, ref) -> (failures, retry at, error).
_backoff: BoundedCache[tuple[str, str], tuple[int, float, str]] = BoundedCache(4096)
BACKOFF_BASE_S, BACKOFF_MAX_S = 2.0, 60.0


def _lock(host: str, image: str) -> threading.Lock:
    return _pull_locks[hash((host, image)) % len(_pull_locks)]


@dataclass(frozen=True)
class ImageSource:
    """Where one revision's image comes from, and who is asking: from its template,
    never its stored request (app.reconcile.template)."""

    deployment_id: uuid.UUID
    ref: str  # the image reference as written (the template's container.image)
    registry_username: str | None  # the deployment's own credentials (the template's)
    registry_password: str | None  # ... and their password, sealed in the revision
    progress_every_s: float = 2.0

    @cached_property
    def auth(self) -> PullAuth | None:
        """Looked up at the first pull only: most passes pull nothing."""
        with session_scope() as session:
            return registries.credentials_for(session, self.ref, self.registry_username,
                                              self.registry_password)

    def event(self, reason: str, message: str, *, warning: bool = False) -> None:
        with session_scope() as session:
            event_repo.record(session, self.deployment_id, reason, message, warning=warning)


def pull(client: EngineClient, source: ImageSource, ref: str | None = None) -> ImageInfo:
    """Pull ``ref`` (default: the spec's reference) on one host, as events say."""
    ref = ref or source.ref
    failures, retry_at, error = _backoff.get((client.name, ref), (0, 0.0, ""))
    if time.monotonic() < retry_at:
        raise TemporaryEngineError(
            f"{error} (pulling again in {retry_at - time.monotonic():.0f}s)")
    who = ""
    if source.auth is not None:
        who = f" as {source.auth.username} ({source.auth.source} credentials for {source.auth.registry})"
    source.event("ImagePulling", f"{client.name}: pulling {ref}{who}")
    started = time.monotonic()

    def progress(summary: str) -> None:
        source.event("ImagePullProgress", f"{client.name}: {ref}: {summary}")

    try:
        image = client.pull(ref, source.auth.auth_config() if source.auth else None,
                            on_progress=progress, progress_every_s=source.progress_every_s)
    except EngineError as exc:
        source.event("ImagePullFailed", str(exc), warning=True)
        if exc.temporary:
            pause = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**failures)
            _backoff.put((client.name, ref), (failures + 1, time.monotonic() + pause, str(exc)))
        raise
    _backoff.pop((client.name, ref), None)
    source.event("ImagePulled",
                 f"{client.name}: pulled {ref} in {time.monotonic() - started:.1f}s: {image.id}")
    return image


def resolve(clients: list[EngineClient], source: ImageSource, from_registry: bool) -> ImageInfo:
    """What the tag means now. A host's copy answers, unless ``from_registry`` (a
    registry said the tag moved, so copies may be stale): then, and when no host has
    it, the first host pulls it."""
    if not from_registry:
        for client in clients:
            if (image := client.image(source.ref)) is not None:
                return image
    return pull(clients[0], source)


def ensure(client: EngineClient, source: ImageSource, pinned: str, pull_ref: str | None) -> None:
    """Make sure the host has the pinned image. Creates on one host share one pull."""
    with _lock(client.name, pinned):
        if client.image(pinned) is not None:
            return  # another create on this host pulled it meanwhile
        pull_ref = pull_ref or source.ref
        image = pull(client, source, pull_ref)
        if pinned.startswith("sha256:") and image.id != pinned:
            raise PermanentEngineError(
                f"{client.name}: {pull_ref} now means {image.id}, not the pinned {pinned}; "
                "apply again to move to it"
            )
