from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_event_read import PageEventRead
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    after: int | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
    tail: int | None | Unset = UNSET,
    accept: None | str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(accept, Unset):
        headers["accept"] = accept

    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id

    params: dict[str, Any] = {}

    json_after: int | None | Unset
    if isinstance(after, Unset):
        json_after = UNSET
    else:
        json_after = after
    params["after"] = json_after

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    json_tail: int | None | Unset
    if isinstance(tail, Unset):
        json_tail = UNSET
    else:
        json_tail = tail
    params["tail"] = json_tail

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/deployments/{name}/events".format(
            name=quote(str(name), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageEventRead | Problem | None:
    if response.status_code == 200:
        response_200 = PageEventRead.from_dict(response.json())

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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PageEventRead | Problem]:
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
    after: int | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
    tail: int | None | Unset = UNSET,
    accept: None | str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> Response[PageEventRead | Problem]:
    """List Events

     Events oldest first. With `Accept: text/event-stream`, a live SSE stream that resumes
    from `Last-Event-ID`; it ends when the deployment is gone.

    Args:
        name (str): A DNS label
        after (int | None | Unset): Only events after this id
        limit (int | Unset): Page size Default: 50.
        cursor (None | str | Unset): next_cursor from the previous page
        tail (int | None | Unset): Only the newest N events (a stream: start N events back; 0:
            only new ones). Ignored with `after`, `cursor` or `Last-Event-ID`
        accept (None | str | Unset):
        last_event_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageEventRead | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        after=after,
        limit=limit,
        cursor=cursor,
        tail=tail,
        accept=accept,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    after: int | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
    tail: int | None | Unset = UNSET,
    accept: None | str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> PageEventRead | Problem | None:
    """List Events

     Events oldest first. With `Accept: text/event-stream`, a live SSE stream that resumes
    from `Last-Event-ID`; it ends when the deployment is gone.

    Args:
        name (str): A DNS label
        after (int | None | Unset): Only events after this id
        limit (int | Unset): Page size Default: 50.
        cursor (None | str | Unset): next_cursor from the previous page
        tail (int | None | Unset): Only the newest N events (a stream: start N events back; 0:
            only new ones). Ignored with `after`, `cursor` or `Last-Event-ID`
        accept (None | str | Unset):
        last_event_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageEventRead | Problem
    """

    return sync_detailed(
        name=name,
        client=client,
        after=after,
        limit=limit,
        cursor=cursor,
        tail=tail,
        accept=accept,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    after: int | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
    tail: int | None | Unset = UNSET,
    accept: None | str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> Response[PageEventRead | Problem]:
    """List Events

     Events oldest first. With `Accept: text/event-stream`, a live SSE stream that resumes
    from `Last-Event-ID`; it ends when the deployment is gone.

    Args:
        name (str): A DNS label
        after (int | None | Unset): Only events after this id
        limit (int | Unset): Page size Default: 50.
        cursor (None | str | Unset): next_cursor from the previous page
        tail (int | None | Unset): Only the newest N events (a stream: start N events back; 0:
            only new ones). Ignored with `after`, `cursor` or `Last-Event-ID`
        accept (None | str | Unset):
        last_event_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageEventRead | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        after=after,
        limit=limit,
        cursor=cursor,
        tail=tail,
        accept=accept,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    after: int | None | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
    tail: int | None | Unset = UNSET,
    accept: None | str | Unset = UNSET,
    last_event_id: None | str | Unset = UNSET,
) -> PageEventRead | Problem | None:
    """List Events

     Events oldest first. With `Accept: text/event-stream`, a live SSE stream that resumes
    from `Last-Event-ID`; it ends when the deployment is gone.

    Args:
        name (str): A DNS label
        after (int | None | Unset): Only events after this id
        limit (int | Unset): Page size Default: 50.
        cursor (None | str | Unset): next_cursor from the previous page
        tail (int | None | Unset): Only the newest N events (a stream: start N events back; 0:
            only new ones). Ignored with `after`, `cursor` or `Last-Event-ID`
        accept (None | str | Unset):
        last_event_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageEventRead | Problem
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            after=after,
            limit=limit,
            cursor=cursor,
            tail=tail,
            accept=accept,
            last_event_id=last_event_id,
        )
    ).parsed
