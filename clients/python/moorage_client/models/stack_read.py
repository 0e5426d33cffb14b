from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.stack_rollout_read import StackRolloutRead
    from ..models.stack_service_read import StackServiceRead
    from ..models.stack_status import StackStatus


T = TypeVar("T", bound="StackRead")


@_attrs_define
class StackRead:
    """
    Attributes:
        name (str):
        revision (int):
        resource_version (int):
        status (StackStatus):
        services (list[StackServiceRead]):
        volumes (list[str]): The stack's named volumes (engine names)
        networks (list[str]): The stack's networks (engine names)
        current_rollout (None | StackRolloutRead):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    name: str
    revision: int
    resource_version: int
    status: StackStatus
    services: list[StackServiceRead]
    volumes: list[str]
    networks: list[str]
    current_rollout: None | StackRolloutRead
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.stack_rollout_read import StackRolloutRead  # noqa: PLC0415

        name = self.name

        revision = self.revision

        resource_version = self.resource_version

        status = self.status.to_dict()

        services = []
        for services_item_data in self.services:
            services_item = services_item_data.to_dict()
            services.append(services_item)

        volumes = self.volumes

        networks = self.networks

        current_rollout: dict[str, Any] | None
        if isinstance(self.current_rollout, StackRolloutRead):
            current_rollout = self.current_rollout.to_dict()
        else:
            current_rollout = self.current_rollout

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "revision": revision,
                "resource_version": resource_version,
                "status": status,
                "services": services,
                "volumes": volumes,
                "networks": networks,
                "current_rollout": current_rollout,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.stack_rollout_read import StackRolloutRead  # noqa: PLC0415
        from ..models.stack_service_read import StackServiceRead  # noqa: PLC0415
        from ..models.stack_status import StackStatus  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        revision = d.pop("revision")

        resource_version = d.pop("resource_version")

        status = StackStatus.from_dict(d.pop("status"))

        services = []
        _services = d.pop("services")
        for services_item_data in _services:
            services_item = StackServiceRead.from_dict(services_item_data)

            services.append(services_item)

        volumes = cast(list[str], d.pop("volumes"))

        networks = cast(list[str], d.pop("networks"))

        def _parse_current_rollout(data: object) -> None | StackRolloutRead:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                current_rollout_type_0 = StackRolloutRead.from_dict(data)

                return current_rollout_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | StackRolloutRead, data)

        current_rollout = _parse_current_rollout(d.pop("current_rollout"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        stack_read = cls(
            name=name,
            revision=revision,
            resource_version=resource_version,
            status=status,
            services=services,
            volumes=volumes,
            networks=networks,
            current_rollout=current_rollout,
            created_at=created_at,
            updated_at=updated_at,
        )

        stack_read.additional_properties = d
        return stack_read

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
