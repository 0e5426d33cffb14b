from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AutoscalerStatus")


@_attrs_define
class AutoscalerStatus:
    """The autoscaler's last look at the deployment.

    Attributes:
        current_replicas (int): The count it looked at
        desired_replicas (int): The count it decided on
        recommendation (int): What usage alone asked for, before the stabilization windows and limits
        last_decision (str): Why, e.g. "CPU 180% of a 50% target over 30 s: 2 → 6"
        decided_at (datetime.datetime):
    """

    current_replicas: int
    desired_replicas: int
    recommendation: int
    last_decision: str
    decided_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        current_replicas = self.current_replicas

        desired_replicas = self.desired_replicas

        recommendation = self.recommendation

        last_decision = self.last_decision

        decided_at = self.decided_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "current_replicas": current_replicas,
                "desired_replicas": desired_replicas,
                "recommendation": recommendation,
                "last_decision": last_decision,
                "decided_at": decided_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        current_replicas = d.pop("current_replicas")

        desired_replicas = d.pop("desired_replicas")

        recommendation = d.pop("recommendation")

        last_decision = d.pop("last_decision")

        decided_at = datetime.datetime.fromisoformat(d.pop("decided_at"))

        autoscaler_status = cls(
            current_replicas=current_replicas,
            desired_replicas=desired_replicas,
            recommendation=recommendation,
            last_decision=last_decision,
            decided_at=decided_at,
        )

        autoscaler_status.additional_properties = d
        return autoscaler_status

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
