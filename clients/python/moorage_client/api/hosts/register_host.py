from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.host_create import HostCreate
from ...models.host_read import HostRead
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: HostCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/hosts",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> HostRead | Problem | None:
    if response.status_code == 201:
        response_201 = HostRead.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[HostRead | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: HostCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[HostRead | Problem]:
    """Register Host

     Register a Docker engine (admin only). The engine must answer; its version and size
    are recorded. `allowed_bind_prefixes` lists host paths deployments may bind there.

    Args:
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (HostCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HostRead | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: HostCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> HostRead | Problem | None:
    """Register Host

     Register a Docker engine (admin only). The engine must answer; its version and size
    are recorded. `allowed_bind_prefixes` lists host paths deployments may bind there.

    Args:
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (HostCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HostRead | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: HostCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[HostRead | Problem]:
    """Register Host

     Register a Docker engine (admin only). The engine must answer; its version and size
    are recorded. `allowed_bind_prefixes` lists host paths deployments may bind there.

    Args:
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (HostCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HostRead | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: HostCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> HostRead | Problem | None:
    """Register Host

     Register a Docker engine (admin only). The engine must answer; its version and size
    are recorded. `allowed_bind_prefixes` lists host paths deployments may bind there.

    Args:
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (HostCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HostRead | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
