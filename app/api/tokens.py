from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.api import presenters
from app.api.deps import AUTH_ERRORS, CurrentPrincipal, Cursor, Limit, SessionDep, require
from app.api.idempotency import IdempotencyDep
from app.api.responses import as_json
from app.repositories import tokens as token_repo
from app.schemas.common import Page, Problem
from app.schemas.tokens import Identity, TokenCreate, TokenCreated, TokenRead
from app.services import tokens as token_service

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=AUTH_ERRORS)
whoami_router = APIRouter(prefix="/v1", tags=["tokens"], responses=AUTH_ERRORS)
P404 = {"model": Problem, "description": "No such token"}
P409 = {"model": Problem, "description": "Idempotency-Key reused with another request"}
P422 = {"model": Problem, "description": "Invalid input; `errors` names each field"}


@router.post("", status_code=201, operation_id="create_token", response_model=TokenCreated,
             responses={409: P409, 422: P422}, dependencies=[require("admin")])
def create_token(
    body: TokenCreate, session: SessionDep, response: Response, idem: IdempotencyDep
) -> Response:
    """Make a token. The token is in this answer only: Moorage keeps just its hash (an
    Idempotency-Key replay answers with `token: null`)."""
    if (replay := idem.replay()) is not None:
        return replay
    row, token = token_service.create(session, body.name, list(body.scopes), body.expires_at)
    response.headers["Location"] = f"/v1/tokens/{row.id}"
    created = TokenCreated(**presenters.token(row).model_dump(), token=token)
    return as_json(idem.save(response, created, redact=["token"]), response, 201)


@router.get("", operation_id="list_tokens", responses={422: P422},
            dependencies=[require("admin")])
def list_tokens(session: SessionDep, limit: Limit = 50, cursor: Cursor = None) -> Page[TokenRead]:
    """Every token, oldest first, revoked ones included. Never the tokens themselves."""
    rows, next_cursor = token_repo.page(session, limit, cursor)
    return Page[TokenRead](items=[presenters.token(t) for t in rows], next_cursor=next_cursor)


@router.delete("/{token_id}", status_code=204, operation_id="revoke_token",
               responses={404: P404, 422: P422}, dependencies=[require("admin")])
def revoke_token(token_id: uuid.UUID, session: SessionDep) -> Response:
    """Revoke a token (it stays listed, with `revoked_at`): refused at once by the API
    process that answers this, and by every other within 2 seconds (each keeps a token's
    check that long). Revoking twice is fine."""
    token_service.revoke(session, token_id)
    return Response(status_code=204)


@whoami_router.get("/whoami", operation_id="whoami")
def whoami(principal: CurrentPrincipal) -> Identity:
    """The calling token: its name, its scopes, and every scope its calls pass (`allows`;
    each scope includes the ones before it). Any valid token may ask, so a client can
    offer only what the token may do."""
    return Identity(id=principal.token_id, name=principal.name,
                    scopes=sorted(principal.scopes, key=token_service.SCOPES.index),
                    allows=[s for s in token_service.SCOPES if principal.allows(s)])
