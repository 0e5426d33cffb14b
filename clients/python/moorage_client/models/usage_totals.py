from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="UsageTotals")


@_attrs_define
class UsageTotals:
    """The newest samples of a deployment's replicas, summed.

    Attributes:
        cpu_percent (float): Summed over the replicas, each of one core
        memory_bytes (int):
        replicas (int): Replicas with a sample (those sampled recently)
        sampled_at (datetime.datetime | None): The newest of the samples summed
    """

    cpu_percent: float
    memory_bytes: int
    replicas: int
    sampled_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu_percent = self.cpu_percent

        memory_bytes = self.memory_bytes

        replicas = self.replicas

        sampled_at: None | str
        if isinstance(self.sampled_at, datetime.datetime):
            sampled_at = self.sampled_at.isoformat()
        else:
            sampled_at = self.sampled_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cpu_percent": cpu_percent,
                "memory_bytes": memory_bytes,
                "replicas": replicas,
                "sampled_at": sampled_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cpu_percent = d.pop("cpu_percent")

        memory_bytes = d.pop("memory_bytes")

        replicas = d.pop("replicas")

        def _parse_sampled_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sampled_at_type_0 = datetime.datetime.fromisoformat(data)

                return sampled_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        sampled_at = _parse_sampled_at(d.pop("sampled_at"))

        usage_totals = cls(
            cpu_percent=cpu_percent,
            memory_bytes=memory_bytes,
            replicas=replicas,
            sampled_at=sampled_at,
        )

        usage_totals.additional_properties = d
        return usage_totals

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
