from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.registry_credential_read import RegistryCredentialRead
from ...models.registry_credential_write import RegistryCredentialWrite
from ...types import Response


def _get_kwargs(
    registry: str,
    *,
    body: RegistryCredentialWrite,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/registries/{registry}".format(
            registry=quote(str(registry), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RegistryCredentialRead | None:
    if response.status_code == 200:
        response_200 = RegistryCredentialRead.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = RegistryCredentialRead.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | RegistryCredentialRead]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    registry: str,
    *,
    client: AuthenticatedClient,
    body: RegistryCredentialWrite,
) -> Response[Problem | RegistryCredentialRead]:
    """Put Registry Credential

     Credentials every pull from this registry uses, unless a deployment brings its own
    (`spec.registry_auth`). A change applies from the next pull on.

    Args:
        registry (str): As in image references: ghcr.io, 10.0.0.5:5000, docker.io
        body (RegistryCredentialWrite):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RegistryCredentialRead]
    """

    kwargs = _get_kwargs(
        registry=registry,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    registry: str,
    *,
    client: AuthenticatedClient,
    body: RegistryCredentialWrite,
) -> Problem | RegistryCredentialRead | None:
    """Put Registry Credential

     Credentials every pull from this registry uses, unless a deployment brings its own
    (`spec.registry_auth`). A change applies from the next pull on.

    Args:
        registry (str): As in image references: ghcr.io, 10.0.0.5:5000, docker.io
        body (RegistryCredentialWrite):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RegistryCredentialRead
    """

    return sync_detailed(
        registry=registry,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    registry: str,
    *,
    client: AuthenticatedClient,
    body: RegistryCredentialWrite,
) -> Response[Problem | RegistryCredentialRead]:
    """Put Registry Credential

     Credentials every pull from this registry uses, unless a deployment brings its own
    (`spec.registry_auth`). A change applies from the next pull on.

    Args:
        registry (str): As in image references: ghcr.io, 10.0.0.5:5000, docker.io
        body (RegistryCredentialWrite):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RegistryCredentialRead]
    """

    kwargs = _get_kwargs(
        registry=registry,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    registry: str,
    *,
    client: AuthenticatedClient,
    body: RegistryCredentialWrite,
) -> Problem | RegistryCredentialRead | None:
    """Put Registry Credential

     Credentials every pull from this registry uses, unless a deployment brings its own
    (`spec.registry_auth`). A change applies from the next pull on.

    Args:
        registry (str): As in image references: ghcr.io, 10.0.0.5:5000, docker.io
        body (RegistryCredentialWrite):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RegistryCredentialRead
    """

    return (
        await asyncio_detailed(
            registry=registry,
            client=client,
            body=body,
        )
    ).parsed
