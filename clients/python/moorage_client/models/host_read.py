from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.host_read_state import HostReadState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.host_read_labels import HostReadLabels


T = TypeVar("T", bound="HostRead")


@_attrs_define
class HostRead:
    """
    Attributes:
        name (str):
        url (str):
        labels (HostReadLabels):
        state (HostReadState):
        schedulable (bool):
        engine_version (None | str):
        cpus (float | None):
        memory_bytes (int | None):
        containers (int):
        last_heartbeat_at (datetime.datetime | None):
        last_error (None | str):
        resource_version (int):
        created_at (datetime.datetime):
        allowed_bind_prefixes (list[str] | Unset): Host paths deployments may bind here (set by an admin), beside the
            global MOORAGE_ALLOWED_BIND_PREFIXES
        edge (bool | Unset): An edge runs Moorage's proxy (Caddy) and serves every deployment's endpoint. Default when
            registering: true for the first host (with one host, it is the edge), false for the others. Default: False.
        edge_address (None | str | Unset): Where its proxy listens (null: the host part of `url`)
        edge_error (None | str | Unset): Why its proxy could not be given the config of the endpoints at the last try
            (null: it has it). Until then it may send requests to replicas that left.
    """

    name: str
    url: str
    labels: HostReadLabels
    state: HostReadState
    schedulable: bool
    engine_version: None | str
    cpus: float | None
    memory_bytes: int | None
    containers: int
    last_heartbeat_at: datetime.datetime | None
    last_error: None | str
    resource_version: int
    created_at: datetime.datetime
    allowed_bind_prefixes: list[str] | Unset = UNSET
    edge: bool | Unset = False
    edge_address: None | str | Unset = UNSET
    edge_error: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        url = self.url

        labels = self.labels.to_dict()

        state = self.state.value

        schedulable = self.schedulable

        engine_version: None | str
        engine_version = self.engine_version

        cpus: float | None
        cpus = self.cpus

        memory_bytes: int | None
        memory_bytes = self.memory_bytes

        containers = self.containers

        last_heartbeat_at: None | str
        if isinstance(self.last_heartbeat_at, datetime.datetime):
            last_heartbeat_at = self.last_heartbeat_at.isoformat()
        else:
            last_heartbeat_at = self.last_heartbeat_at

        last_error: None | str
        last_error = self.last_error

        resource_version = self.resource_version

        created_at = self.created_at.isoformat()

        allowed_bind_prefixes: list[str] | Unset = UNSET
        if not isinstance(self.allowed_bind_prefixes, Unset):
            allowed_bind_prefixes = self.allowed_bind_prefixes

        edge = self.edge

        edge_address: None | str | Unset
        if isinstance(self.edge_address, Unset):
            edge_address = UNSET
        else:
            edge_address = self.edge_address

        edge_error: None | str | Unset
        if isinstance(self.edge_error, Unset):
            edge_error = UNSET
        else:
            edge_error = self.edge_error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "url": url,
                "labels": labels,
                "state": state,
                "schedulable": schedulable,
                "engine_version": engine_version,
                "cpus": cpus,
                "memory_bytes": memory_bytes,
                "containers": containers,
                "last_heartbeat_at": last_heartbeat_at,
                "last_error": last_error,
                "resource_version": resource_version,
                "created_at": created_at,
            }
        )
        if allowed_bind_prefixes is not UNSET:
            field_dict["allowed_bind_prefixes"] = allowed_bind_prefixes
        if edge is not UNSET:
            field_dict["edge"] = edge
        if edge_address is not UNSET:
            field_dict["edge_address"] = edge_address
        if edge_error is not UNSET:
            field_dict["edge_error"] = edge_error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.host_read_labels import HostReadLabels  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        url = d.pop("url")

        labels = HostReadLabels.from_dict(d.pop("labels"))

        state = HostReadState(d.pop("state"))

        schedulable = d.pop("schedulable")

        def _parse_engine_version(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        engine_version = _parse_engine_version(d.pop("engine_version"))

        def _parse_cpus(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        cpus = _parse_cpus(d.pop("cpus"))

        def _parse_memory_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        memory_bytes = _parse_memory_bytes(d.pop("memory_bytes"))

        containers = d.pop("containers")

        def _parse_last_heartbeat_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_heartbeat_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_heartbeat_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_heartbeat_at = _parse_last_heartbeat_at(d.pop("last_heartbeat_at"))

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        resource_version = d.pop("resource_version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        allowed_bind_prefixes = cast(list[str], d.pop("allowed_bind_prefixes", UNSET))

        edge = d.pop("edge", UNSET)

        def _parse_edge_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        edge_address = _parse_edge_address(d.pop("edge_address", UNSET))

        def _parse_edge_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        edge_error = _parse_edge_error(d.pop("edge_error", UNSET))

        host_read = cls(
            name=name,
            url=url,
            labels=labels,
            state=state,
            schedulable=schedulable,
            engine_version=engine_version,
            cpus=cpus,
            memory_bytes=memory_bytes,
            containers=containers,
            last_heartbeat_at=last_heartbeat_at,
            last_error=last_error,
            resource_version=resource_version,
            created_at=created_at,
            allowed_bind_prefixes=allowed_bind_prefixes,
            edge=edge,
            edge_address=edge_address,
            edge_error=edge_error,
        )

        host_read.additional_properties = d
        return host_read

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
