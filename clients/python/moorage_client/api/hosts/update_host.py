from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.host_read import HostRead
from ...models.host_update import HostUpdate
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/hosts/{name}".format(
            name=quote(str(name), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> HostRead | Problem | None:
    if response.status_code == 200:
        response_200 = HostRead.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[HostRead | Problem]:
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
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> Response[HostRead | Problem]:
    """Update Host

     Change labels, set `schedulable: false` to drain the host, or replace the host
    paths deployments may bind here (`allowed_bind_prefixes`). Admin only, like every
    change to a host: host access is the admin's.

    Args:
        name (str):
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (HostUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HostRead | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> HostRead | Problem | None:
    """Update Host

     Change labels, set `schedulable: false` to drain the host, or replace the host
    paths deployments may bind here (`allowed_bind_prefixes`). Admin only, like every
    change to a host: host access is the admin's.

    Args:
        name (str):
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (HostUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HostRead | Problem
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> Response[HostRead | Problem]:
    """Update Host

     Change labels, set `schedulable: false` to drain the host, or replace the host
    paths deployments may bind here (`allowed_bind_prefixes`). Admin only, like every
    change to a host: host access is the admin's.

    Args:
        name (str):
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (HostUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HostRead | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> HostRead | Problem | None:
    """Update Host

     Change labels, set `schedulable: false` to drain the host, or replace the host
    paths deployments may bind here (`allowed_bind_prefixes`). Admin only, like every
    change to a host: host access is the admin's.

    Args:
        name (str):
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (HostUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HostRead | Problem
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
