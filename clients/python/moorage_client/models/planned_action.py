from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.planned_action_action import PlannedActionAction

T = TypeVar("T", bound="PlannedAction")


@_attrs_define
class PlannedAction:
    """
    Attributes:
        action (PlannedActionAction):
        host (str):
        slot (int):
        reason (str):
    """

    action: PlannedActionAction
    host: str
    slot: int
    reason: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action.value

        host = self.host

        slot = self.slot

        reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "host": host,
                "slot": slot,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        action = PlannedActionAction(d.pop("action"))

        host = d.pop("host")

        slot = d.pop("slot")

        reason = d.pop("reason")

        planned_action = cls(
            action=action,
            host=host,
            slot=slot,
            reason=reason,
        )

        planned_action.additional_properties = d
        return planned_action

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
