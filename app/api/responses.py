"""A model answered as JSON by the endpoint itself.

FastAPI validates what a sync endpoint returns against its response model again, in the
thread pool, and only then leaves the endpoint's function-scoped dependencies, so the
request's transaction commits after that trip. Two costs follow: the CPU of validating a
model pydantic built and checked a moment ago, and, worse, a wait for a free thread while
the transaction still holds its row locks. With every pool thread taken by requests that
wait for such a lock (concurrent applies of one deployment), the holder never got its
thread: the requests stood until the pool's checkout timeout answered 503s. An endpoint
that returns ``as_json(model)`` is serialized once (pydantic's core, straight to bytes)
and commits as soon as it returns. The route keeps its ``response_model`` for the schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from fastapi import Response
from pydantic import BaseModel


def as_json(model: BaseModel, response: Response | None = None, status_code: int = 200) -> Response:
    """``model`` as FastAPI would render it (by alias), with the headers and status code
    set on the endpoint's ``response`` parameter, if any."""
    out = Response(model.__pydantic_serializer__.to_json(model, by_alias=True),
                   status_code=(response.status_code if response is not None
                                and response.status_code else status_code),
                   media_type="application/json")
    if response is not None:
        out.raw_headers.extend(response.raw_headers)
    return out


def page_json(items: Sequence[bytes], next_cursor: str | None) -> Response:
    """A ``Page`` of items already serialized (``presenters.deployment_json``), as
    ``as_json(Page(items=..., next_cursor=...))`` would render it, byte for byte."""
    return Response(b'{"items":[' + b",".join(items) + b'],"next_cursor":'
                    + orjson.dumps(next_cursor) + b"}", media_type="application/json")
