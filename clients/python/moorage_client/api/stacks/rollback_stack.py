from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.stack_rollback_request import StackRollbackRequest
from ...models.stack_rollout_read import StackRolloutRead
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    body: None | StackRollbackRequest | Unset = UNSET,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/stacks/{name}/rollback".format(
            name=quote(str(name), safe=""),
        ),
    }

    if isinstance(body, StackRollbackRequest):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | StackRolloutRead | None:
    if response.status_code == 202:
        response_202 = StackRolloutRead.from_dict(response.json())

        return response_202

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | StackRolloutRead]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: None | StackRollbackRequest | Unset = UNSET,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Problem | StackRolloutRead]:
    """Rollback Stack

     Roll the whole stack back to revision `n` (default: the previous one), as a new
    revision and one release, in `depends_on` order.

    Args:
        name (str): A DNS label (its services are `<stack>-<service>`)
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (None | StackRollbackRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StackRolloutRead]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        if_match=if_match,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    body: None | StackRollbackRequest | Unset = UNSET,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Problem | StackRolloutRead | None:
    """Rollback Stack

     Roll the whole stack back to revision `n` (default: the previous one), as a new
    revision and one release, in `depends_on` order.

    Args:
        name (str): A DNS label (its services are `<stack>-<service>`)
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (None | StackRollbackRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StackRolloutRead
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
        if_match=if_match,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: None | StackRollbackRequest | Unset = UNSET,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Problem | StackRolloutRead]:
    """Rollback Stack

     Roll the whole stack back to revision `n` (default: the previous one), as a new
    revision and one release, in `depends_on` order.

    Args:
        name (str): A DNS label (its services are `<stack>-<service>`)
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (None | StackRollbackRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StackRolloutRead]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        if_match=if_match,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: None | StackRollbackRequest | Unset = UNSET,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Problem | StackRolloutRead | None:
    """Rollback Stack

     Roll the whole stack back to revision `n` (default: the previous one), as a new
    revision and one release, in `depends_on` order.

    Args:
        name (str): A DNS label (its services are `<stack>-<service>`)
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (None | StackRollbackRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StackRolloutRead
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
            if_match=if_match,
            idempotency_key=idempotency_key,
        )
    ).parsed
