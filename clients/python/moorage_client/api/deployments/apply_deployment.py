from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.deployment_read import DeploymentRead
from ...models.deployment_spec import DeploymentSpec
from ...models.dry_run_result import DryRunResult
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    body: DeploymentSpec,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    params: dict[str, Any] = {}

    params["dry_run"] = dry_run

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/deployments/{name}".format(
            name=quote(str(name), safe=""),
        ),
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DeploymentRead | DeploymentRead | DryRunResult | Problem | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> DeploymentRead | DryRunResult:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = DeploymentRead.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = DryRunResult.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = DeploymentRead.from_dict(response.json())

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
) -> Response[DeploymentRead | DeploymentRead | DryRunResult | Problem]:
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
    body: DeploymentSpec,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> Response[DeploymentRead | DeploymentRead | DryRunResult | Problem]:
    """Apply Deployment

     Apply a full spec. A changed spec becomes a new revision and starts a rollout;
    the same spec again changes nothing. `replicas` is not part of a revision: scaling
    makes no revision (it changes the deployment, records a `Scaled` event and starts a
    `scale` rollout to the current revision). A `deploy` token may do this; binding a host
    path (`volumes[].source` that is a path) needs an admin to have allowed it (422
    otherwise, naming the field).

    Args:
        name (str): A DNS label
        dry_run (bool | Unset): Validate and show what would happen; change nothing Default:
            False.
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (DeploymentSpec):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentRead | DeploymentRead | DryRunResult | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        dry_run=dry_run,
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
    body: DeploymentSpec,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> DeploymentRead | DeploymentRead | DryRunResult | Problem | None:
    """Apply Deployment

     Apply a full spec. A changed spec becomes a new revision and starts a rollout;
    the same spec again changes nothing. `replicas` is not part of a revision: scaling
    makes no revision (it changes the deployment, records a `Scaled` event and starts a
    `scale` rollout to the current revision). A `deploy` token may do this; binding a host
    path (`volumes[].source` that is a path) needs an admin to have allowed it (422
    otherwise, naming the field).

    Args:
        name (str): A DNS label
        dry_run (bool | Unset): Validate and show what would happen; change nothing Default:
            False.
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (DeploymentSpec):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentRead | DeploymentRead | DryRunResult | Problem
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
        dry_run=dry_run,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: DeploymentSpec,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> Response[DeploymentRead | DeploymentRead | DryRunResult | Problem]:
    """Apply Deployment

     Apply a full spec. A changed spec becomes a new revision and starts a rollout;
    the same spec again changes nothing. `replicas` is not part of a revision: scaling
    makes no revision (it changes the deployment, records a `Scaled` event and starts a
    `scale` rollout to the current revision). A `deploy` token may do this; binding a host
    path (`volumes[].source` that is a path) needs an admin to have allowed it (422
    otherwise, naming the field).

    Args:
        name (str): A DNS label
        dry_run (bool | Unset): Validate and show what would happen; change nothing Default:
            False.
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (DeploymentSpec):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentRead | DeploymentRead | DryRunResult | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        dry_run=dry_run,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: DeploymentSpec,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> DeploymentRead | DeploymentRead | DryRunResult | Problem | None:
    """Apply Deployment

     Apply a full spec. A changed spec becomes a new revision and starts a rollout;
    the same spec again changes nothing. `replicas` is not part of a revision: scaling
    makes no revision (it changes the deployment, records a `Scaled` event and starts a
    `scale` rollout to the current revision). A `deploy` token may do this; binding a host
    path (`volumes[].source` that is a path) needs an admin to have allowed it (422
    otherwise, naming the field).

    Args:
        name (str): A DNS label
        dry_run (bool | Unset): Validate and show what would happen; change nothing Default:
            False.
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (DeploymentSpec):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentRead | DeploymentRead | DryRunResult | Problem
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
            dry_run=dry_run,
            if_match=if_match,
        )
    ).parsed
