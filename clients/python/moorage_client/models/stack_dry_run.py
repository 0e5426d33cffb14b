from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.stack_service_plan import StackServicePlan


T = TypeVar("T", bound="StackDryRun")


@_attrs_define
class StackDryRun:
    """
    Attributes:
        new_revision (bool):
        revision (int):
        services (list[StackServicePlan]):
        dry_run (bool | Unset):  Default: True.
    """

    new_revision: bool
    revision: int
    services: list[StackServicePlan]
    dry_run: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        new_revision = self.new_revision

        revision = self.revision

        services = []
        for services_item_data in self.services:
            services_item = services_item_data.to_dict()
            services.append(services_item)

        dry_run = self.dry_run

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "new_revision": new_revision,
                "revision": revision,
                "services": services,
            }
        )
        if dry_run is not UNSET:
            field_dict["dry_run"] = dry_run

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.stack_service_plan import StackServicePlan  # noqa: PLC0415

        d = dict(src_dict)
        new_revision = d.pop("new_revision")

        revision = d.pop("revision")

        services = []
        _services = d.pop("services")
        for services_item_data in _services:
            services_item = StackServicePlan.from_dict(services_item_data)

            services.append(services_item)

        dry_run = d.pop("dry_run", UNSET)

        stack_dry_run = cls(
            new_revision=new_revision,
            revision=revision,
            services=services,
            dry_run=dry_run,
        )

        stack_dry_run.additional_properties = d
        return stack_dry_run

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
