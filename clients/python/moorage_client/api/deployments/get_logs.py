import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.log_line import LogLine
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    tail: int | Unset = 100,
    since: datetime.datetime | None | Unset = UNSET,
    follow: bool | Unset = False,
    replica: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["tail"] = tail

    json_since: None | str | Unset
    if isinstance(since, Unset):
        json_since = UNSET
    elif isinstance(since, datetime.datetime):
        json_since = since.isoformat()
    else:
        json_since = since
    params["since"] = json_since

    params["follow"] = follow

    json_replica: None | str | Unset
    if isinstance(replica, Unset):
        json_replica = UNSET
    else:
        json_replica = replica
    params["replica"] = json_replica

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/deployments/{name}/logs".format(
            name=quote(str(name), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[LogLine] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = LogLine.from_dict(response_200_item_data)

            response_200.append(response_200_item)

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
) -> Response[Problem | list[LogLine]]:
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
    tail: int | Unset = 100,
    since: datetime.datetime | None | Unset = UNSET,
    follow: bool | Unset = False,
    replica: None | str | Unset = UNSET,
) -> Response[Problem | list[LogLine]]:
    """Get Logs

     Output of every replica (secret values shown as `***`), each line tagged with its
    replica and host.

    Args:
        name (str): A DNS label
        tail (int | Unset): Lines per replica Default: 100.
        since (datetime.datetime | None | Unset): Only lines written at or after this time (RFC
            3339)
        follow (bool | Unset): Stream new lines as they come (NDJSON), from every replica,
            including ones that start later Default: False.
        replica (None | str | Unset): Only this replica: its container name or slot number

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[LogLine]]
    """

    kwargs = _get_kwargs(
        name=name,
        tail=tail,
        since=since,
        follow=follow,
        replica=replica,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    tail: int | Unset = 100,
    since: datetime.datetime | None | Unset = UNSET,
    follow: bool | Unset = False,
    replica: None | str | Unset = UNSET,
) -> Problem | list[LogLine] | None:
    """Get Logs

     Output of every replica (secret values shown as `***`), each line tagged with its
    replica and host.

    Args:
        name (str): A DNS label
        tail (int | Unset): Lines per replica Default: 100.
        since (datetime.datetime | None | Unset): Only lines written at or after this time (RFC
            3339)
        follow (bool | Unset): Stream new lines as they come (NDJSON), from every replica,
            including ones that start later Default: False.
        replica (None | str | Unset): Only this replica: its container name or slot number

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[LogLine]
    """

    return sync_detailed(
        name=name,
        client=client,
        tail=tail,
        since=since,
        follow=follow,
        replica=replica,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    tail: int | Unset = 100,
    since: datetime.datetime | None | Unset = UNSET,
    follow: bool | Unset = False,
    replica: None | str | Unset = UNSET,
) -> Response[Problem | list[LogLine]]:
    """Get Logs

     Output of every replica (secret values shown as `***`), each line tagged with its
    replica and host.

    Args:
        name (str): A DNS label
        tail (int | Unset): Lines per replica Default: 100.
        since (datetime.datetime | None | Unset): Only lines written at or after this time (RFC
            3339)
        follow (bool | Unset): Stream new lines as they come (NDJSON), from every replica,
            including ones that start later Default: False.
        replica (None | str | Unset): Only this replica: its container name or slot number

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[LogLine]]
    """

    kwargs = _get_kwargs(
        name=name,
        tail=tail,
        since=since,
        follow=follow,
        replica=replica,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    tail: int | Unset = 100,
    since: datetime.datetime | None | Unset = UNSET,
    follow: bool | Unset = False,
    replica: None | str | Unset = UNSET,
) -> Problem | list[LogLine] | None:
    """Get Logs

     Output of every replica (secret values shown as `***`), each line tagged with its
    replica and host.

    Args:
        name (str): A DNS label
        tail (int | Unset): Lines per replica Default: 100.
        since (datetime.datetime | None | Unset): Only lines written at or after this time (RFC
            3339)
        follow (bool | Unset): Stream new lines as they come (NDJSON), from every replica,
            including ones that start later Default: False.
        replica (None | str | Unset): Only this replica: its container name or slot number

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[LogLine]
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            tail=tail,
            since=since,
            follow=follow,
            replica=replica,
        )
    ).parsed
