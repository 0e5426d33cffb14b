from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.phase import Phase
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.autoscaler_status import AutoscalerStatus
    from ..models.condition import Condition
    from ..models.usage_totals import UsageTotals


T = TypeVar("T", bound="DeploymentStatus")


@_attrs_define
class DeploymentStatus:
    """
    Attributes:
        phase (Phase): A deployment's phase, as its status shows it.
        replicas (int):
        ready_replicas (int):
        updated_replicas (int):
        unavailable_replicas (int):
        observed_revision (int | None):
        message (str):
        conditions (list[Condition] | Unset):
        usage (None | Unset | UsageTotals): What the replicas consume, from their newest samples; null when none has
            been sampled recently
        autoscaler (AutoscalerStatus | None | Unset): With `spec.autoscale` set, once the autoscaler has looked
    """

    phase: Phase
    replicas: int
    ready_replicas: int
    updated_replicas: int
    unavailable_replicas: int
    observed_revision: int | None
    message: str
    conditions: list[Condition] | Unset = UNSET
    usage: None | Unset | UsageTotals = UNSET
    autoscaler: AutoscalerStatus | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.autoscaler_status import AutoscalerStatus  # noqa: PLC0415
        from ..models.usage_totals import UsageTotals  # noqa: PLC0415

        phase = self.phase.value

        replicas = self.replicas

        ready_replicas = self.ready_replicas

        updated_replicas = self.updated_replicas

        unavailable_replicas = self.unavailable_replicas

        observed_revision: int | None
        observed_revision = self.observed_revision

        message = self.message

        conditions: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.conditions, Unset):
            conditions = []
            for conditions_item_data in self.conditions:
                conditions_item = conditions_item_data.to_dict()
                conditions.append(conditions_item)

        usage: dict[str, Any] | None | Unset
        if isinstance(self.usage, Unset):
            usage = UNSET
        elif isinstance(self.usage, UsageTotals):
            usage = self.usage.to_dict()
        else:
            usage = self.usage

        autoscaler: dict[str, Any] | None | Unset
        if isinstance(self.autoscaler, Unset):
            autoscaler = UNSET
        elif isinstance(self.autoscaler, AutoscalerStatus):
            autoscaler = self.autoscaler.to_dict()
        else:
            autoscaler = self.autoscaler

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "phase": phase,
                "replicas": replicas,
                "ready_replicas": ready_replicas,
                "updated_replicas": updated_replicas,
                "unavailable_replicas": unavailable_replicas,
                "observed_revision": observed_revision,
                "message": message,
            }
        )
        if conditions is not UNSET:
            field_dict["conditions"] = conditions
        if usage is not UNSET:
            field_dict["usage"] = usage
        if autoscaler is not UNSET:
            field_dict["autoscaler"] = autoscaler

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.autoscaler_status import AutoscalerStatus  # noqa: PLC0415
        from ..models.condition import Condition  # noqa: PLC0415
        from ..models.usage_totals import UsageTotals  # noqa: PLC0415

        d = dict(src_dict)
        phase = Phase(d.pop("phase"))

        replicas = d.pop("replicas")

        ready_replicas = d.pop("ready_replicas")

        updated_replicas = d.pop("updated_replicas")

        unavailable_replicas = d.pop("unavailable_replicas")

        def _parse_observed_revision(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        observed_revision = _parse_observed_revision(d.pop("observed_revision"))

        message = d.pop("message")

        _conditions = d.pop("conditions", UNSET)
        conditions: list[Condition] | Unset = UNSET
        if _conditions is not UNSET:
            conditions = []
            for conditions_item_data in _conditions:
                conditions_item = Condition.from_dict(conditions_item_data)

                conditions.append(conditions_item)

        def _parse_usage(data: object) -> None | Unset | UsageTotals:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                usage_type_0 = UsageTotals.from_dict(data)

                return usage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UsageTotals, data)

        usage = _parse_usage(d.pop("usage", UNSET))

        def _parse_autoscaler(data: object) -> AutoscalerStatus | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                autoscaler_type_0 = AutoscalerStatus.from_dict(data)

                return autoscaler_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AutoscalerStatus | None | Unset, data)

        autoscaler = _parse_autoscaler(d.pop("autoscaler", UNSET))

        deployment_status = cls(
            phase=phase,
            replicas=replicas,
            ready_replicas=ready_replicas,
            updated_replicas=updated_replicas,
            unavailable_replicas=unavailable_replicas,
            observed_revision=observed_revision,
            message=message,
            conditions=conditions,
            usage=usage,
            autoscaler=autoscaler,
        )

        deployment_status.additional_properties = d
        return deployment_status

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
