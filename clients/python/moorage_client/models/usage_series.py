from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.usage_point import UsagePoint


T = TypeVar("T", bound="UsageSeries")


@_attrs_define
class UsageSeries:
    """A deployment's recent usage for a chart: a point at each sampling tick that kept a
    sample and every interval between them up to now. A replica's reading within the
    dead-band of its latest kept sample is not written: that one stands for it until the
    next.

        Attributes:
            interval_s (float):
            retention_s (float):
            points (list[UsagePoint]):
    """

    interval_s: float
    retention_s: float
    points: list[UsagePoint]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        interval_s = self.interval_s

        retention_s = self.retention_s

        points = []
        for points_item_data in self.points:
            points_item = points_item_data.to_dict()
            points.append(points_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "interval_s": interval_s,
                "retention_s": retention_s,
                "points": points,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_point import UsagePoint  # noqa: PLC0415

        d = dict(src_dict)
        interval_s = d.pop("interval_s")

        retention_s = d.pop("retention_s")

        points = []
        _points = d.pop("points")
        for points_item_data in _points:
            points_item = UsagePoint.from_dict(points_item_data)

            points.append(points_item)

        usage_series = cls(
            interval_s=interval_s,
            retention_s=retention_s,
            points=points,
        )

        usage_series.additional_properties = d
        return usage_series

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
