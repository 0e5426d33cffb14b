from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.hook_accepted import HookAccepted
from ...models.hook_ignored import HookIgnored
from ...models.problem import Problem
from ...models.trigger_webhook_body import TriggerWebhookBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    webhook_id: UUID,
    *,
    body: TriggerWebhookBody,
    x_hub_signature_256: None | str | Unset = UNSET,
    x_git_hub_event: None | str | Unset = UNSET,
    x_git_hub_delivery: None | str | Unset = UNSET,
    x_delivery_id: None | str | Unset = UNSET,
    authorization: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_hub_signature_256, Unset):
        headers["X-Hub-Signature-256"] = x_hub_signature_256

    if not isinstance(x_git_hub_event, Unset):
        headers["X-GitHub-Event"] = x_git_hub_event

    if not isinstance(x_git_hub_delivery, Unset):
        headers["X-GitHub-Delivery"] = x_git_hub_delivery

    if not isinstance(x_delivery_id, Unset):
        headers["X-Delivery-Id"] = x_delivery_id

    if not isinstance(authorization, Unset):
        headers["authorization"] = authorization

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/hooks/{webhook_id}".format(
            webhook_id=quote(str(webhook_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HookAccepted | HookIgnored | Problem | None:
    if response.status_code == 200:
        response_200 = HookIgnored.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = HookAccepted.from_dict(response.json())

        return response_202

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[HookAccepted | HookIgnored | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    webhook_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: TriggerWebhookBody,
    x_hub_signature_256: None | str | Unset = UNSET,
    x_git_hub_event: None | str | Unset = UNSET,
    x_git_hub_delivery: None | str | Unset = UNSET,
    x_delivery_id: None | str | Unset = UNSET,
    authorization: None | str | Unset = UNSET,
) -> Response[HookAccepted | HookIgnored | Problem]:
    """Trigger Webhook

     Deliver a push. No bearer token: the HMAC signature (or, for `dockerhub`, the
    unguessable URL) is the credential. A delivery id seen before is not applied again.

    Args:
        webhook_id (UUID):
        x_hub_signature_256 (None | str | Unset): `sha256=<hex HMAC-SHA256(secret, raw body)>`;
            not for dockerhub
        x_git_hub_event (None | str | Unset):
        x_git_hub_delivery (None | str | Unset):
        x_delivery_id (None | str | Unset): Your id for this delivery: one id is applied once
        authorization (None | str | Unset): `registry` webhooks only: `Bearer <secret>`, for a
            Docker registry's notifications, which carry static headers and cannot sign
        body (TriggerWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HookAccepted | HookIgnored | Problem]
    """

    kwargs = _get_kwargs(
        webhook_id=webhook_id,
        body=body,
        x_hub_signature_256=x_hub_signature_256,
        x_git_hub_event=x_git_hub_event,
        x_git_hub_delivery=x_git_hub_delivery,
        x_delivery_id=x_delivery_id,
        authorization=authorization,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    webhook_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: TriggerWebhookBody,
    x_hub_signature_256: None | str | Unset = UNSET,
    x_git_hub_event: None | str | Unset = UNSET,
    x_git_hub_delivery: None | str | Unset = UNSET,
    x_delivery_id: None | str | Unset = UNSET,
    authorization: None | str | Unset = UNSET,
) -> HookAccepted | HookIgnored | Problem | None:
    """Trigger Webhook

     Deliver a push. No bearer token: the HMAC signature (or, for `dockerhub`, the
    unguessable URL) is the credential. A delivery id seen before is not applied again.

    Args:
        webhook_id (UUID):
        x_hub_signature_256 (None | str | Unset): `sha256=<hex HMAC-SHA256(secret, raw body)>`;
            not for dockerhub
        x_git_hub_event (None | str | Unset):
        x_git_hub_delivery (None | str | Unset):
        x_delivery_id (None | str | Unset): Your id for this delivery: one id is applied once
        authorization (None | str | Unset): `registry` webhooks only: `Bearer <secret>`, for a
            Docker registry's notifications, which carry static headers and cannot sign
        body (TriggerWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HookAccepted | HookIgnored | Problem
    """

    return sync_detailed(
        webhook_id=webhook_id,
        client=client,
        body=body,
        x_hub_signature_256=x_hub_signature_256,
        x_git_hub_event=x_git_hub_event,
        x_git_hub_delivery=x_git_hub_delivery,
        x_delivery_id=x_delivery_id,
        authorization=authorization,
    ).parsed


async def asyncio_detailed(
    webhook_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: TriggerWebhookBody,
    x_hub_signature_256: None | str | Unset = UNSET,
    x_git_hub_event: None | str | Unset = UNSET,
    x_git_hub_delivery: None | str | Unset = UNSET,
    x_delivery_id: None | str | Unset = UNSET,
    authorization: None | str | Unset = UNSET,
) -> Response[HookAccepted | HookIgnored | Problem]:
    """Trigger Webhook

     Deliver a push. No bearer token: the HMAC signature (or, for `dockerhub`, the
    unguessable URL) is the credential. A delivery id seen before is not applied again.

    Args:
        webhook_id (UUID):
        x_hub_signature_256 (None | str | Unset): `sha256=<hex HMAC-SHA256(secret, raw body)>`;
            not for dockerhub
        x_git_hub_event (None | str | Unset):
        x_git_hub_delivery (None | str | Unset):
        x_delivery_id (None | str | Unset): Your id for this delivery: one id is applied once
        authorization (None | str | Unset): `registry` webhooks only: `Bearer <secret>`, for a
            Docker registry's notifications, which carry static headers and cannot sign
        body (TriggerWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HookAccepted | HookIgnored | Problem]
    """

    kwargs = _get_kwargs(
        webhook_id=webhook_id,
        body=body,
        x_hub_signature_256=x_hub_signature_256,
        x_git_hub_event=x_git_hub_event,
        x_git_hub_delivery=x_git_hub_delivery,
        x_delivery_id=x_delivery_id,
        authorization=authorization,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    webhook_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: TriggerWebhookBody,
    x_hub_signature_256: None | str | Unset = UNSET,
    x_git_hub_event: None | str | Unset = UNSET,
    x_git_hub_delivery: None | str | Unset = UNSET,
    x_delivery_id: None | str | Unset = UNSET,
    authorization: None | str | Unset = UNSET,
) -> HookAccepted | HookIgnored | Problem | None:
    """Trigger Webhook

     Deliver a push. No bearer token: the HMAC signature (or, for `dockerhub`, the
    unguessable URL) is the credential. A delivery id seen before is not applied again.

    Args:
        webhook_id (UUID):
        x_hub_signature_256 (None | str | Unset): `sha256=<hex HMAC-SHA256(secret, raw body)>`;
            not for dockerhub
        x_git_hub_event (None | str | Unset):
        x_git_hub_delivery (None | str | Unset):
        x_delivery_id (None | str | Unset): Your id for this delivery: one id is applied once
        authorization (None | str | Unset): `registry` webhooks only: `Bearer <secret>`, for a
            Docker registry's notifications, which carry static headers and cannot sign
        body (TriggerWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HookAccepted | HookIgnored | Problem
    """

    return (
        await asyncio_detailed(
            webhook_id=webhook_id,
            client=client,
            body=body,
            x_hub_signature_256=x_hub_signature_256,
            x_git_hub_event=x_git_hub_event,
            x_git_hub_delivery=x_git_hub_delivery,
            x_delivery_id=x_delivery_id,
            authorization=authorization,
        )
    ).parsed
