"""What-if patches for benchmarks only (never for production, never imported by app/).

``python -m celery -A bench.whatif:celery worker ...`` runs Moorage's own worker (the
Celery app of ``workers.celery_app``, unchanged) with ONE difference: the HTTP health
probes in ``app.dockerhost.probes`` reuse one ``httpx.Client`` per thread instead of
``httpx.get``, which builds (and throws away) a client, with its TLS context and CA bundle,
for every probe: about 50 ms of CPU each on this machine even for plain http://.
``bench.rollout --whatif`` uses it to measure what that costs a rolling update.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

import app.dockerhost.probes as probes

_local = threading.local()


class _ReusedClientHttpx:
    """Stands in for the ``httpx`` module inside app.dockerhost.probes."""

    HTTPError = httpx.HTTPError

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        client = getattr(_local, "client", None)
        if client is None:
            client = _local.client = httpx.Client()
        return client.get(url, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(httpx, name)


probes.httpx = _ReusedClientHttpx()  # type: ignore[assignment]

from workers.celery_app import celery  # noqa: E402  (after the patch, before any fork)

__all__ = ["celery"]
