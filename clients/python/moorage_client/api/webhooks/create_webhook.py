from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.webhook_create import WebhookCreate
from ...models.webhook_created import WebhookCreated
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    body: WebhookCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/deployments/{name}/webhooks".format(
            name=quote(str(name), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WebhookCreated | None:
    if response.status_code == 201:
        response_201 = WebhookCreated.from_dict(response.json())

        return response_201

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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | WebhookCreated]:
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
    body: WebhookCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Problem | WebhookCreated]:
    """Create Webhook

     Make a webhook for a deployment. The answer carries its `url` and, once only, the
    `secret` that signs deliveries (a replay of the same `Idempotency-Key` answers it as
    null: it is never stored in the clear).

    Args:
        name (str): A DNS label
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (WebhookCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookCreated]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
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
    body: WebhookCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> Problem | WebhookCreated | None:
    """Create Webhook

     Make a webhook for a deployment. The answer carries its `url` and, once only, the
    `secret` that signs deliveries (a replay of the same `Idempotency-Key` answers it as
    null: it is never stored in the clear).

    Args:
        name (str): A DNS label
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (WebhookCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookCreated
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: WebhookCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Problem | WebhookCreated]:
    """Create Webhook

     Make a webhook for a deployment. The answer carries its `url` and, once only, the
    `secret` that signs deliveries (a replay of the same `Idempotency-Key` answers it as
    null: it is never stored in the clear).

    Args:
        name (str): A DNS label
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (WebhookCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookCreated]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: WebhookCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> Problem | WebhookCreated | None:
    """Create Webhook

     Make a webhook for a deployment. The answer carries its `url` and, once only, the
    `secret` that signs deliveries (a replay of the same `Idempotency-Key` answers it as
    null: it is never stored in the clear).

    Args:
        name (str): A DNS label
        idempotency_key (None | str | Unset): Any unique string (e.g. a UUID) of printable ASCII,
            up to 255 characters. A retry with the same key and the same request within 24 h gets the
            first answer again (with `Idempotent-Replayed: true`); the same key with a different
            request is a 409.
        body (WebhookCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookCreated
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
