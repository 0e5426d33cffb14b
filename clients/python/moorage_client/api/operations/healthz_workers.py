from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.workers_health import WorkersHealth
from ...models.workers_problem import WorkersProblem
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/healthz/workers",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> WorkersHealth | WorkersProblem | None:
    if response.status_code == 200:
        response_200 = WorkersHealth.from_dict(response.json())

        return response_200

    if response.status_code == 503:
        response_503 = WorkersProblem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[WorkersHealth | WorkersProblem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[WorkersHealth | WorkersProblem]:
    """Healthz Workers

     Whether the processes that do the work live, as they say in the database: 200
    when at least one worker is alive (heard from within MOORAGE_PROCESS_STALE_AFTER_S)
    and consuming from the broker, and exactly one beat is alive; else 503, saying what
    is missing. Both list every worker and beat process heard from in the last hour.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[WorkersHealth | WorkersProblem]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> WorkersHealth | WorkersProblem | None:
    """Healthz Workers

     Whether the processes that do the work live, as they say in the database: 200
    when at least one worker is alive (heard from within MOORAGE_PROCESS_STALE_AFTER_S)
    and consuming from the broker, and exactly one beat is alive; else 503, saying what
    is missing. Both list every worker and beat process heard from in the last hour.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        WorkersHealth | WorkersProblem
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[WorkersHealth | WorkersProblem]:
    """Healthz Workers

     Whether the processes that do the work live, as they say in the database: 200
    when at least one worker is alive (heard from within MOORAGE_PROCESS_STALE_AFTER_S)
    and consuming from the broker, and exactly one beat is alive; else 503, saying what
    is missing. Both list every worker and beat process heard from in the last hour.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[WorkersHealth | WorkersProblem]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> WorkersHealth | WorkersProblem | None:
    """Healthz Workers

     Whether the processes that do the work live, as they say in the database: 200
    when at least one worker is alive (heard from within MOORAGE_PROCESS_STALE_AFTER_S)
    and consuming from the broker, and exactly one beat is alive; else 503, saying what
    is missing. Both list every worker and beat process heard from in the last hour.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        WorkersHealth | WorkersProblem
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
