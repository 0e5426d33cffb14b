from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.rollout_read import RolloutRead
from ...models.stack_rollout_read import StackRolloutRead
from ...types import UNSET, Response, Unset


def _get_kwargs(
    rollout_id: UUID,
    *,
    wait: float | Unset = 0.0,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["wait"] = wait

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/rollouts/{rollout_id}".format(
            rollout_id=quote(str(rollout_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RolloutRead | StackRolloutRead | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> RolloutRead | StackRolloutRead:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = RolloutRead.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = StackRolloutRead.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

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
) -> Response[Problem | RolloutRead | StackRolloutRead]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    rollout_id: UUID,
    *,
    client: AuthenticatedClient,
    wait: float | Unset = 0.0,
) -> Response[Problem | RolloutRead | StackRolloutRead]:
    """Get Rollout

     A deployment's rollout, or a stack's release (`StackRolloutRead`, which has
    `stack`); with `?wait=N`, answers as soon as it ends (or after N seconds).

    Args:
        rollout_id (UUID):
        wait (float | Unset): Hold the request up to this many seconds until the rollout is
            terminal Default: 0.0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RolloutRead | StackRolloutRead]
    """

    kwargs = _get_kwargs(
        rollout_id=rollout_id,
        wait=wait,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    rollout_id: UUID,
    *,
    client: AuthenticatedClient,
    wait: float | Unset = 0.0,
) -> Problem | RolloutRead | StackRolloutRead | None:
    """Get Rollout

     A deployment's rollout, or a stack's release (`StackRolloutRead`, which has
    `stack`); with `?wait=N`, answers as soon as it ends (or after N seconds).

    Args:
        rollout_id (UUID):
        wait (float | Unset): Hold the request up to this many seconds until the rollout is
            terminal Default: 0.0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RolloutRead | StackRolloutRead
    """

    return sync_detailed(
        rollout_id=rollout_id,
        client=client,
        wait=wait,
    ).parsed


async def asyncio_detailed(
    rollout_id: UUID,
    *,
    client: AuthenticatedClient,
    wait: float | Unset = 0.0,
) -> Response[Problem | RolloutRead | StackRolloutRead]:
    """Get Rollout

     A deployment's rollout, or a stack's release (`StackRolloutRead`, which has
    `stack`); with `?wait=N`, answers as soon as it ends (or after N seconds).

    Args:
        rollout_id (UUID):
        wait (float | Unset): Hold the request up to this many seconds until the rollout is
            terminal Default: 0.0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RolloutRead | StackRolloutRead]
    """

    kwargs = _get_kwargs(
        rollout_id=rollout_id,
        wait=wait,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    rollout_id: UUID,
    *,
    client: AuthenticatedClient,
    wait: float | Unset = 0.0,
) -> Problem | RolloutRead | StackRolloutRead | None:
    """Get Rollout

     A deployment's rollout, or a stack's release (`StackRolloutRead`, which has
    `stack`); with `?wait=N`, answers as soon as it ends (or after N seconds).

    Args:
        rollout_id (UUID):
        wait (float | Unset): Hold the request up to this many seconds until the rollout is
            terminal Default: 0.0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RolloutRead | StackRolloutRead
    """

    return (
        await asyncio_detailed(
            rollout_id=rollout_id,
            client=client,
            wait=wait,
        )
    ).parsed
