from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.replica_health import ReplicaHealth
from ..models.replica_state import ReplicaState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.replica_port import ReplicaPort
    from ..models.replica_usage import ReplicaUsage


T = TypeVar("T", bound="ReplicaRead")


@_attrs_define
class ReplicaRead:
    """
    Attributes:
        id (UUID):
        host (str):
        slot (int):
        container_id (None | str):
        container_name (str):
        revision (int):
        state (ReplicaState): A replica's state as Moorage records it: fewer words than the engine's.
        health (ReplicaHealth):
        ports (list[ReplicaPort]):
        started_at (datetime.datetime | None):
        restart_count (int):
        exit_code (int | None | Unset):
        last_probe (None | str | Unset):
        usage (None | ReplicaUsage | Unset): Its newest usage sample; null when it has none (not running, or not sampled
            yet)
    """

    id: UUID
    host: str
    slot: int
    container_id: None | str
    container_name: str
    revision: int
    state: ReplicaState
    health: ReplicaHealth
    ports: list[ReplicaPort]
    started_at: datetime.datetime | None
    restart_count: int
    exit_code: int | None | Unset = UNSET
    last_probe: None | str | Unset = UNSET
    usage: None | ReplicaUsage | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.replica_usage import ReplicaUsage  # noqa: PLC0415

        id = str(self.id)

        host = self.host

        slot = self.slot

        container_id: None | str
        container_id = self.container_id

        container_name = self.container_name

        revision = self.revision

        state = self.state.value

        health = self.health.value

        ports = []
        for ports_item_data in self.ports:
            ports_item = ports_item_data.to_dict()
            ports.append(ports_item)

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        restart_count = self.restart_count

        exit_code: int | None | Unset
        if isinstance(self.exit_code, Unset):
            exit_code = UNSET
        else:
            exit_code = self.exit_code

        last_probe: None | str | Unset
        if isinstance(self.last_probe, Unset):
            last_probe = UNSET
        else:
            last_probe = self.last_probe

        usage: dict[str, Any] | None | Unset
        if isinstance(self.usage, Unset):
            usage = UNSET
        elif isinstance(self.usage, ReplicaUsage):
            usage = self.usage.to_dict()
        else:
            usage = self.usage

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "host": host,
                "slot": slot,
                "container_id": container_id,
                "container_name": container_name,
                "revision": revision,
                "state": state,
                "health": health,
                "ports": ports,
                "started_at": started_at,
                "restart_count": restart_count,
            }
        )
        if exit_code is not UNSET:
            field_dict["exit_code"] = exit_code
        if last_probe is not UNSET:
            field_dict["last_probe"] = last_probe
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.replica_port import ReplicaPort  # noqa: PLC0415
        from ..models.replica_usage import ReplicaUsage  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        host = d.pop("host")

        slot = d.pop("slot")

        def _parse_container_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        container_id = _parse_container_id(d.pop("container_id"))

        container_name = d.pop("container_name")

        revision = d.pop("revision")

        state = ReplicaState(d.pop("state"))

        health = ReplicaHealth(d.pop("health"))

        ports = []
        _ports = d.pop("ports")
        for ports_item_data in _ports:
            ports_item = ReplicaPort.from_dict(ports_item_data)

            ports.append(ports_item)

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

        restart_count = d.pop("restart_count")

        def _parse_exit_code(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        exit_code = _parse_exit_code(d.pop("exit_code", UNSET))

        def _parse_last_probe(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_probe = _parse_last_probe(d.pop("last_probe", UNSET))

        def _parse_usage(data: object) -> None | ReplicaUsage | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                usage_type_0 = ReplicaUsage.from_dict(data)

                return usage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ReplicaUsage | Unset, data)

        usage = _parse_usage(d.pop("usage", UNSET))

        replica_read = cls(
            id=id,
            host=host,
            slot=slot,
            container_id=container_id,
            container_name=container_name,
            revision=revision,
            state=state,
            health=health,
            ports=ports,
            started_at=started_at,
            restart_count=restart_count,
            exit_code=exit_code,
            last_probe=last_probe,
            usage=usage,
        )

        replica_read.additional_properties = d
        return replica_read

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
