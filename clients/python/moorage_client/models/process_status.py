from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.process_status_kind import ProcessStatusKind

T = TypeVar("T", bound="ProcessStatus")


@_attrs_define
class ProcessStatus:
    """A worker or beat process, as it last said it lives.

    Attributes:
        id (UUID):
        kind (ProcessStatusKind):
        hostname (str):
        pid (int):
        started_at (datetime.datetime):
        last_seen_at (datetime.datetime): Its last heartbeat
        broker_seen_at (datetime.datetime | None): The last time it was seen working with the broker: a worker's
            consumer ran connected to it; beat sent a job
        alive (bool): Heard from within MOORAGE_PROCESS_STALE_AFTER_S
        consuming (bool | None): Workers: alive, and its consumer ran connected to the broker within
            MOORAGE_PROCESS_STALE_AFTER_S. Null for beat
    """

    id: UUID
    kind: ProcessStatusKind
    hostname: str
    pid: int
    started_at: datetime.datetime
    last_seen_at: datetime.datetime
    broker_seen_at: datetime.datetime | None
    alive: bool
    consuming: bool | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        kind = self.kind.value

        hostname = self.hostname

        pid = self.pid

        started_at = self.started_at.isoformat()

        last_seen_at = self.last_seen_at.isoformat()

        broker_seen_at: None | str
        if isinstance(self.broker_seen_at, datetime.datetime):
            broker_seen_at = self.broker_seen_at.isoformat()
        else:
            broker_seen_at = self.broker_seen_at

        alive = self.alive

        consuming: bool | None
        consuming = self.consuming

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "hostname": hostname,
                "pid": pid,
                "started_at": started_at,
                "last_seen_at": last_seen_at,
                "broker_seen_at": broker_seen_at,
                "alive": alive,
                "consuming": consuming,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        kind = ProcessStatusKind(d.pop("kind"))

        hostname = d.pop("hostname")

        pid = d.pop("pid")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        last_seen_at = datetime.datetime.fromisoformat(d.pop("last_seen_at"))

        def _parse_broker_seen_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                broker_seen_at_type_0 = datetime.datetime.fromisoformat(data)

                return broker_seen_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        broker_seen_at = _parse_broker_seen_at(d.pop("broker_seen_at"))

        alive = d.pop("alive")

        def _parse_consuming(data: object) -> bool | None:
            if data is None:
                return data
            return cast(bool | None, data)

        consuming = _parse_consuming(d.pop("consuming"))

        process_status = cls(
            id=id,
            kind=kind,
            hostname=hostname,
            pid=pid,
            started_at=started_at,
            last_seen_at=last_seen_at,
            broker_seen_at=broker_seen_at,
            alive=alive,
            consuming=consuming,
        )

        process_status.additional_properties = d
        return process_status

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
