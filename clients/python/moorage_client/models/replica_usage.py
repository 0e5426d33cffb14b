from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ReplicaUsage")


@_attrs_define
class ReplicaUsage:
    """A replica's newest kept usage sample: it stands until the next one (a reading
    within its dead-band is not written), for the keep-alive and three ticks more.

        Attributes:
            cpu_percent (float | None): CPU as a percentage of one core (two busy cores read 200); null until a container
                has been sampled twice
            memory_bytes (int | None): Memory in use, less droppable page cache (as `docker stats` counts it)
            memory_percent (float | None): memory_bytes as a percentage of the container's limit (the host's memory when it
                has none)
            sampled_at (datetime.datetime):
    """

    cpu_percent: float | None
    memory_bytes: int | None
    memory_percent: float | None
    sampled_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu_percent: float | None
        cpu_percent = self.cpu_percent

        memory_bytes: int | None
        memory_bytes = self.memory_bytes

        memory_percent: float | None
        memory_percent = self.memory_percent

        sampled_at = self.sampled_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cpu_percent": cpu_percent,
                "memory_bytes": memory_bytes,
                "memory_percent": memory_percent,
                "sampled_at": sampled_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_cpu_percent(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        cpu_percent = _parse_cpu_percent(d.pop("cpu_percent"))

        def _parse_memory_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        memory_bytes = _parse_memory_bytes(d.pop("memory_bytes"))

        def _parse_memory_percent(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        memory_percent = _parse_memory_percent(d.pop("memory_percent"))

        sampled_at = datetime.datetime.fromisoformat(d.pop("sampled_at"))

        replica_usage = cls(
            cpu_percent=cpu_percent,
            memory_bytes=memory_bytes,
            memory_percent=memory_percent,
            sampled_at=sampled_at,
        )

        replica_usage.additional_properties = d
        return replica_usage

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
