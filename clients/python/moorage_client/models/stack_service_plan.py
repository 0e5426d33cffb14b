from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.stack_service_plan_change import StackServicePlanChange
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dry_run_result import DryRunResult


T = TypeVar("T", bound="StackServicePlan")


@_attrs_define
class StackServicePlan:
    """
    Attributes:
        service (str):
        deployment (str):
        change (StackServicePlanChange):
        plan (DryRunResult | None | Unset): The deployment's own dry run (null for a removal)
    """

    service: str
    deployment: str
    change: StackServicePlanChange
    plan: DryRunResult | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.dry_run_result import DryRunResult  # noqa: PLC0415

        service = self.service

        deployment = self.deployment

        change = self.change.value

        plan: dict[str, Any] | None | Unset
        if isinstance(self.plan, Unset):
            plan = UNSET
        elif isinstance(self.plan, DryRunResult):
            plan = self.plan.to_dict()
        else:
            plan = self.plan

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "service": service,
                "deployment": deployment,
                "change": change,
            }
        )
        if plan is not UNSET:
            field_dict["plan"] = plan

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dry_run_result import DryRunResult  # noqa: PLC0415

        d = dict(src_dict)
        service = d.pop("service")

        deployment = d.pop("deployment")

        change = StackServicePlanChange(d.pop("change"))

        def _parse_plan(data: object) -> DryRunResult | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                plan_type_0 = DryRunResult.from_dict(data)

                return plan_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DryRunResult | None | Unset, data)

        plan = _parse_plan(d.pop("plan", UNSET))

        stack_service_plan = cls(
            service=service,
            deployment=deployment,
            change=change,
            plan=plan,
        )

        stack_service_plan.additional_properties = d
        return stack_service_plan

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
