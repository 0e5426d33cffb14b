from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.rollout_state import RolloutState
from ..models.stack_rollout_read_kind import StackRolloutReadKind

if TYPE_CHECKING:
    from ..models.stack_rollout_read_services import StackRolloutReadServices


T = TypeVar("T", bound="StackRolloutRead")


@_attrs_define
class StackRolloutRead:
    """A stack's release of one revision. Its id also answers `GET /v1/rollouts/{id}`.

    Attributes:
        id (UUID):
        stack (str):
        kind (StackRolloutReadKind):
        from_revision (int | None):
        to_revision (int):
        state (RolloutState):
        message (str):
        services (StackRolloutReadServices): Each service applied so far -> the deployment rollout that started (null:
            the service needed no change)
        created_at (datetime.datetime):
        started_at (datetime.datetime | None):
        finished_at (datetime.datetime | None):
    """

    id: UUID
    stack: str
    kind: StackRolloutReadKind
    from_revision: int | None
    to_revision: int
    state: RolloutState
    message: str
    services: StackRolloutReadServices
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        stack = self.stack

        kind = self.kind.value

        from_revision: int | None
        from_revision = self.from_revision

        to_revision = self.to_revision

        state = self.state.value

        message = self.message

        services = self.services.to_dict()

        created_at = self.created_at.isoformat()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "stack": stack,
                "kind": kind,
                "from_revision": from_revision,
                "to_revision": to_revision,
                "state": state,
                "message": message,
                "services": services,
                "created_at": created_at,
                "started_at": started_at,
                "finished_at": finished_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.stack_rollout_read_services import StackRolloutReadServices  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        stack = d.pop("stack")

        kind = StackRolloutReadKind(d.pop("kind"))

        def _parse_from_revision(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        from_revision = _parse_from_revision(d.pop("from_revision"))

        to_revision = d.pop("to_revision")

        state = RolloutState(d.pop("state"))

        message = d.pop("message")

        services = StackRolloutReadServices.from_dict(d.pop("services"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        stack_rollout_read = cls(
            id=id,
            stack=stack,
            kind=kind,
            from_revision=from_revision,
            to_revision=to_revision,
            state=state,
            message=message,
            services=services,
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
        )

        stack_rollout_read.additional_properties = d
        return stack_rollout_read

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
