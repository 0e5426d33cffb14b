from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.apply_stack_json_stack_apply import ApplyStackJsonStackApply
from ...models.problem import Problem
from ...models.stack_dry_run import StackDryRun
from ...models.stack_read import StackRead
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    body: str | ApplyStackJsonStackApply | Unset = UNSET,
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
        "url": "/v1/stacks/{name}".format(
            name=quote(str(name), safe=""),
        ),
        "params": params,
    }

    if isinstance(body, str):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/yaml"
    if isinstance(body, ApplyStackJsonStackApply):
        _kwargs["json"] = body.to_dict()

        headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | StackDryRun | StackRead | StackRead | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> StackDryRun | StackRead:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = StackRead.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = StackDryRun.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = StackRead.from_dict(response.json())

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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | StackDryRun | StackRead | StackRead]:
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
    body: str | ApplyStackJsonStackApply | Unset = UNSET,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> Response[Problem | StackDryRun | StackRead | StackRead]:
    """Apply Stack

     Apply a Compose file: `application/yaml` (the file) or `application/json`
    `{"compose": "<the file>", "secrets": {"<name>": "<value>"}}` (write-only values of
    the file's top-level `secrets`). A changed file is a new stack revision and one
    release: the services (deployments `<stack>-<service>`) roll out in `depends_on`
    order, and a failed one rolls the whole stack back (`failure_action: rollback`, the
    default). The same file again changes nothing. See docs/API.md for the Compose fields
    Moorage takes; any other is a 422 naming it and why.

    Args:
        name (str): A DNS label (its services are `<stack>-<service>`)
        dry_run (bool | Unset): Validate and show what would happen, per service; change nothing
            Default: False.
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (str): The Compose file itself
        body (ApplyStackJsonStackApply): A Compose file as JSON, with the values of its top-level
            `secrets`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StackDryRun | StackRead | StackRead]
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
    body: str | ApplyStackJsonStackApply | Unset = UNSET,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> Problem | StackDryRun | StackRead | StackRead | None:
    """Apply Stack

     Apply a Compose file: `application/yaml` (the file) or `application/json`
    `{"compose": "<the file>", "secrets": {"<name>": "<value>"}}` (write-only values of
    the file's top-level `secrets`). A changed file is a new stack revision and one
    release: the services (deployments `<stack>-<service>`) roll out in `depends_on`
    order, and a failed one rolls the whole stack back (`failure_action: rollback`, the
    default). The same file again changes nothing. See docs/API.md for the Compose fields
    Moorage takes; any other is a 422 naming it and why.

    Args:
        name (str): A DNS label (its services are `<stack>-<service>`)
        dry_run (bool | Unset): Validate and show what would happen, per service; change nothing
            Default: False.
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (str): The Compose file itself
        body (ApplyStackJsonStackApply): A Compose file as JSON, with the values of its top-level
            `secrets`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StackDryRun | StackRead | StackRead
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
    body: str | ApplyStackJsonStackApply | Unset = UNSET,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> Response[Problem | StackDryRun | StackRead | StackRead]:
    """Apply Stack

     Apply a Compose file: `application/yaml` (the file) or `application/json`
    `{"compose": "<the file>", "secrets": {"<name>": "<value>"}}` (write-only values of
    the file's top-level `secrets`). A changed file is a new stack revision and one
    release: the services (deployments `<stack>-<service>`) roll out in `depends_on`
    order, and a failed one rolls the whole stack back (`failure_action: rollback`, the
    default). The same file again changes nothing. See docs/API.md for the Compose fields
    Moorage takes; any other is a 422 naming it and why.

    Args:
        name (str): A DNS label (its services are `<stack>-<service>`)
        dry_run (bool | Unset): Validate and show what would happen, per service; change nothing
            Default: False.
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (str): The Compose file itself
        body (ApplyStackJsonStackApply): A Compose file as JSON, with the values of its top-level
            `secrets`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StackDryRun | StackRead | StackRead]
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
    body: str | ApplyStackJsonStackApply | Unset = UNSET,
    dry_run: bool | Unset = False,
    if_match: None | str | Unset = UNSET,
) -> Problem | StackDryRun | StackRead | StackRead | None:
    """Apply Stack

     Apply a Compose file: `application/yaml` (the file) or `application/json`
    `{"compose": "<the file>", "secrets": {"<name>": "<value>"}}` (write-only values of
    the file's top-level `secrets`). A changed file is a new stack revision and one
    release: the services (deployments `<stack>-<service>`) roll out in `depends_on`
    order, and a failed one rolls the whole stack back (`failure_action: rollback`, the
    default). The same file again changes nothing. See docs/API.md for the Compose fields
    Moorage takes; any other is a 422 naming it and why.

    Args:
        name (str): A DNS label (its services are `<stack>-<service>`)
        dry_run (bool | Unset): Validate and show what would happen, per service; change nothing
            Default: False.
        if_match (None | str | Unset): ETag (resource_version) the change is based on
        body (str): The Compose file itself
        body (ApplyStackJsonStackApply): A Compose file as JSON, with the values of its top-level
            `secrets`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StackDryRun | StackRead | StackRead
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
