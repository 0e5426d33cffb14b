from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="UsagePoint")


@_attrs_define
class UsagePoint:
    """
    Attributes:
        at (datetime.datetime): A sampling tick that kept a sample
        cpu_percent (float): Summed over the replicas, % of one core, each with its latest kept sample then
        memory_bytes (int):
        replicas (int): Replicas with a sample standing then
    """

    at: datetime.datetime
    cpu_percent: float
    memory_bytes: int
    replicas: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        cpu_percent = self.cpu_percent

        memory_bytes = self.memory_bytes

        replicas = self.replicas

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "cpu_percent": cpu_percent,
                "memory_bytes": memory_bytes,
                "replicas": replicas,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        cpu_percent = d.pop("cpu_percent")

        memory_bytes = d.pop("memory_bytes")

        replicas = d.pop("replicas")

        usage_point = cls(
            at=at,
            cpu_percent=cpu_percent,
            memory_bytes=memory_bytes,
            replicas=replicas,
        )

        usage_point.additional_properties = d
        return usage_point

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
