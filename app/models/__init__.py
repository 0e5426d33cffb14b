"""ORM tables. They hold no queries: those live in app.repositories."""

from app.models.autoscaler import AutoscalerState
from app.models.deployment import Deployment, Revision
from app.models.event import Event
from app.models.host import Host
from app.models.idempotency import IdempotencyKey
from app.models.installation import Installation
from app.models.process import ProcessHeartbeat
from app.models.registry import RegistryCredential
from app.models.replica import Replica
from app.models.rollout import Rollout
from app.models.stack import Stack, StackRevision, StackRollout
from app.models.token import ApiToken
from app.models.usage import UsageSample
from app.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "ApiToken", "AutoscalerState", "Deployment", "Event", "Host", "IdempotencyKey", "Installation",
    "ProcessHeartbeat", "RegistryCredential", "Replica", "Revision", "Rollout", "Stack",
    "StackRevision", "StackRollout", "UsageSample", "Webhook", "WebhookDelivery",
]
