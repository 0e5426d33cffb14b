"""Event lists and Server-Sent Event streams: one implementation for every events route
(a deployment's, and every deployment's at `GET /v1/events`)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.api import presenters
from app.api.deps import still_allowed
from app.db import get_sessionmaker
from app.errors import Invalid, NotFound
from app.models import Event
from app.repositories import deployments as deployment_repo
from app.repositories import events as event_repo
from app.repositories.pagination import decode_cursor, encode_cursor
from app.schemas.common import Page
from app.schemas.deployments import EventRead

POLL_S = 0.5
KEEPALIVE_S = 15.0
STREAM_BATCH = 500

After = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="Only events after this id")]
Tail = Annotated[int | None, Query(
    ge=0, le=10_000,
    description="Only the newest N events (a stream: start N events back; 0: only new "
                "ones). Ignored with `after`, `cursor` or `Last-Event-ID`")]
Accept = Annotated[str | None, Header()]
LastEventId = Annotated[str | None, Header(alias="Last-Event-ID")]
SSE_RESPONSE = {200: {"content": {"text/event-stream": {}},
                      "description": "JSON page, or an SSE stream when asked"}}


@dataclass(frozen=True)
class EventFeed:
    """The events of one deployment (by name), or of every deployment (``None``).

    Each read is its own short transaction, so a long stream holds no connection."""

    deployment: str | None = None

    def read(self, after: int | None, limit: int, tail: int | None = None,
             ) -> tuple[int | None, list[EventRead]] | None:
        """(the id read after, the events after it), or None when the deployment is gone."""
        with get_sessionmaker()() as session:
            scope = None
            if self.deployment is not None:
                d = deployment_repo.find_by_name(session, self.deployment)
                if d is None:
                    return None
                scope = d.id
            if after is None and tail is not None:
                after = event_repo.tail_start(session, scope, tail)
            rows = event_repo.after(session, scope, after, limit)
            return after, [presenters.event(e, name) for e, name in rows]


def _last_event_id(value: str) -> int:
    # ASCII digits only ("²".isdigit() is true) and within an event id's range.
    if not re.fullmatch(r"[0-9]{1,19}", value) or int(value) >= 2**63:
        raise Invalid("Last-Event-ID must be an event id", loc=["header", "Last-Event-ID"])
    return int(value)


async def answer(
    feed: EventFeed, request: Request, *, after: int | None, limit: int, cursor: str | None,
    tail: int | None, accept: str | None, last_event_id: str | None,
) -> Page[EventRead] | StreamingResponse:
    """A page of events oldest first, or with `Accept: text/event-stream` a live stream
    that resumes from `Last-Event-ID`."""
    if cursor is not None:
        after = decode_cursor(cursor, Event.id)
    streaming = bool(accept and "text/event-stream" in accept)
    if streaming and last_event_id:
        after = _last_event_id(last_event_id)
    first = await run_in_threadpool(feed.read, after, limit, tail)
    if first is None:
        raise NotFound(f"deployment {feed.deployment!r} does not exist")
    after, items = first
    if streaming:
        return StreamingResponse(
            _stream(feed, request, after, items, still_allowed(request, "read")),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    next_cursor = encode_cursor(items[-1].id) if len(items) == limit else None
    return Page[EventRead](items=items, next_cursor=next_cursor)


async def _stream(
    feed: EventFeed, request: Request, after: int | None, first: list[EventRead],
    allowed: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """Until the client goes, the deployment is gone, or the token that opened the stream
    is revoked or expires (checked as often as a request's would be)."""
    batch = first
    idle = 0.0
    while True:
        for e in batch:
            after = e.id
            yield f"id: {e.id}\nevent: {e.reason}\ndata: {e.model_dump_json()}\n\n"
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_S)
        if not await allowed():
            return
        idle += POLL_S
        if idle >= KEEPALIVE_S:
            idle = 0.0
            yield ": keep-alive\n\n"
        read = await run_in_threadpool(feed.read, after, STREAM_BATCH)
        if read is None:
            return  # the deployment is gone
        batch = read[1]
