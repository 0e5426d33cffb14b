from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_read_outcome import DeliveryReadOutcome

T = TypeVar("T", bound="DeliveryRead")


@_attrs_define
class DeliveryRead:
    """
    Attributes:
        id (int):
        received_at (datetime.datetime):
        delivery_id (None | str): The provider's id, when it sent one
        outcome (DeliveryReadOutcome):
        rollout_id (None | UUID):
        reason (str):
    """

    id: int
    received_at: datetime.datetime
    delivery_id: None | str
    outcome: DeliveryReadOutcome
    rollout_id: None | UUID
    reason: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        received_at = self.received_at.isoformat()

        delivery_id: None | str
        delivery_id = self.delivery_id

        outcome = self.outcome.value

        rollout_id: None | str
        if isinstance(self.rollout_id, UUID):
            rollout_id = str(self.rollout_id)
        else:
            rollout_id = self.rollout_id

        reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "received_at": received_at,
                "delivery_id": delivery_id,
                "outcome": outcome,
                "rollout_id": rollout_id,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        received_at = datetime.datetime.fromisoformat(d.pop("received_at"))

        def _parse_delivery_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        delivery_id = _parse_delivery_id(d.pop("delivery_id"))

        outcome = DeliveryReadOutcome(d.pop("outcome"))

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

        reason = d.pop("reason")

        delivery_read = cls(
            id=id,
            received_at=received_at,
            delivery_id=delivery_id,
            outcome=outcome,
            rollout_id=rollout_id,
            reason=reason,
        )

        delivery_read.additional_properties = d
        return delivery_read

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
