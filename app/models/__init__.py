"""ORM tables. They hold no queries: those live in app.repositories."""

from app.models.deployment import Deployment, Revision
from app.models.event import Event
from app.models.host import Host
from app.models.replica import Replica
from app.models.rollout import Rollout

__all__ = ["Deployment", "Event", "Host", "Replica", "Revision", "Rollout"]
