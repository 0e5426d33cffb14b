from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_read_type import EventReadType

T = TypeVar("T", bound="EventRead")


@_attrs_define
class EventRead:
    """
    Attributes:
        id (int):
        deployment (str): The deployment's name
        time (datetime.datetime):
        type_ (EventReadType):
        reason (str):
        message (str):
        rollout_id (None | UUID):
        replica_id (None | UUID):
    """

    id: int
    deployment: str
    time: datetime.datetime
    type_: EventReadType
    reason: str
    message: str
    rollout_id: None | UUID
    replica_id: None | UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        deployment = self.deployment

        time = self.time.isoformat()

        type_ = self.type_.value

        reason = self.reason

        message = self.message

        rollout_id: None | str
        if isinstance(self.rollout_id, UUID):
            rollout_id = str(self.rollout_id)
        else:
            rollout_id = self.rollout_id

        replica_id: None | str
        if isinstance(self.replica_id, UUID):
            replica_id = str(self.replica_id)
        else:
            replica_id = self.replica_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "deployment": deployment,
                "time": time,
                "type": type_,
                "reason": reason,
                "message": message,
                "rollout_id": rollout_id,
                "replica_id": replica_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        deployment = d.pop("deployment")

        time = datetime.datetime.fromisoformat(d.pop("time"))

        type_ = EventReadType(d.pop("type"))

        reason = d.pop("reason")

        message = d.pop("message")

        def _parse_rollout_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                rollout_id_type_0 = UUID(data)

                return rollout_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        rollout_id = _parse_rollout_id(d.pop("rollout_id"))

        def _parse_replica_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                replica_id_type_0 = UUID(data)

                return replica_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        replica_id = _parse_replica_id(d.pop("replica_id"))

        event_read = cls(
            id=id,
            deployment=deployment,
            time=time,
            type_=type_,
            reason=reason,
            message=message,
            rollout_id=rollout_id,
            replica_id=replica_id,
        )

        event_read.additional_properties = d
        return event_read

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
