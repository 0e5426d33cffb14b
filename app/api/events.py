"""Every deployment's events in one list or stream (the dashboard's feed)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.api import sse
from app.api.deps import AUTH_ERRORS, Cursor, Limit, require
from app.schemas.common import Page, Problem
from app.schemas.deployments import EventRead

router = APIRouter(prefix="/v1/events", tags=["events"], responses=AUTH_ERRORS)


@router.get("", operation_id="list_all_events", dependencies=[require("read")],
            responses={422: {"model": Problem, "description": "Invalid input"},
                       **sse.SSE_RESPONSE})
async def list_all_events(
    request: Request,
    after: sse.After = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    tail: sse.Tail = None,
    accept: sse.Accept = None,
    last_event_id: sse.LastEventId = None,
) -> Page[EventRead]:
    """Every deployment's events, oldest first, each naming its `deployment`: paged like a
    deployment's own events, and with `Accept: text/event-stream` a live SSE stream that
    resumes from `Last-Event-ID`."""
    return await sse.answer(sse.EventFeed(), request, after=after, limit=limit, cursor=cursor,
                            tail=tail, accept=accept, last_event_id=last_event_id)
