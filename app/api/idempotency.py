"""The Idempotency-Key header on POSTs that create or start work.

A handler takes ``idem: IdempotencyDep`` and brackets its work:

    if (replay := idem.replay()) is not None:
        return replay
    ...work...
    return idem.save(response, result)

``replay()`` claims the key in the request's transaction (or answers with the earlier
response); ``save()`` records the answer in that same transaction, so the key and the
work commit together. Errors raised by the work roll both back: a retry runs again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.api.deps import CurrentPrincipal, SessionDep
from app.errors import Invalid
from app.models import IdempotencyKey
from app.services import idempotency as service

M = TypeVar("M", bound=BaseModel)
KEY = re.compile(r"[\x21-\x7e]{1,255}")
REPLAYED_HEADERS = ("etag", "location")


class Idempotency:
    def __init__(self, session: Session, token_id, key: str | None, request: Request,
                 body: bytes) -> None:
        self.session = session
        self.token_id = token_id
        self.key = key
        self.request = request
        self.body = body
        self.record: IdempotencyKey | None = None

    def replay(self) -> Response | None:
        """The earlier answer for this key, or None: go ahead (the key is now ours)."""
        if self.key is None:
            return None
        req = self.request
        request_hash = service.request_fingerprint(self.session, req.method, req.url.path, req.url.query, self.body)
        record, replay = service.claim(self.session, self.token_id, self.key, req.method,
                                       req.url.path, request_hash)
        if not replay:
            self.record = record
            return None
        return JSONResponse(
            record.response_body, status_code=record.response_status or 200,
            headers={**record.response_headers, "Idempotent-Replayed": "true"},
        )

    def save(self, response: Response, result: M, *, redact: Iterable[str] = ()) -> M:
        """Record ``result`` as the answer to replay. Fields in ``redact`` (shown-once
        secrets that must not be stored) are replayed as null."""
        if self.record is not None:
            route = self.request.scope.get("route")
            status = response.status_code or getattr(route, "status_code", None) or 200
            body = result.model_dump(mode="json", by_alias=True)
            for field in redact:
                body[field] = None
            headers = {k: v for k, v in response.headers.items() if k.lower() in REPLAYED_HEADERS}
            service.complete(self.session, self.record, status, body, headers)
        return result


async def _raw_body(request: Request) -> bytes:
    return await request.body()  # Starlette caches it: the handler's body model reads it again


def idempotency(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: Annotated[bytes, Depends(_raw_body)],
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", max_length=255,
        description=("Any unique string (e.g. a UUID) of printable ASCII, up to 255 characters. "
                     "A retry with the same key and the same request within 24 h gets the "
                     "first answer again (with `Idempotent-Replayed: true`); the same key "
                     "with a different request is a 409."),
    )] = None,
) -> Idempotency:
    if idempotency_key is not None and not KEY.fullmatch(idempotency_key):
        raise Invalid("Idempotency-Key must be 1-255 printable ASCII characters",
                      loc=["header", "Idempotency-Key"])
    return Idempotency(session, principal.token_id, idempotency_key, request, body)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
