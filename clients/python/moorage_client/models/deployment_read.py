from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.deployment_status import DeploymentStatus
    from ..models.endpoint_read import EndpointRead
    from ..models.rollout_read import RolloutRead
    from ..models.spec_read import SpecRead


T = TypeVar("T", bound="DeploymentRead")


@_attrs_define
class DeploymentRead:
    """
    Attributes:
        name (str):
        spec (SpecRead): A deployment's spec as the API returns it: its current revision's, at the
            deployment's replica count.
        revision (int):
        resource_version (int):
        status (DeploymentStatus):
        current_rollout (None | RolloutRead):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        stack (None | str | Unset): The stack it is a service of: then it changes only through the stack (else 409)
        endpoint (EndpointRead | None | Unset):
    """

    name: str
    spec: SpecRead
    revision: int
    resource_version: int
    status: DeploymentStatus
    current_rollout: None | RolloutRead
    created_at: datetime.datetime
    updated_at: datetime.datetime
    stack: None | str | Unset = UNSET
    endpoint: EndpointRead | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.endpoint_read import EndpointRead  # noqa: PLC0415
        from ..models.rollout_read import RolloutRead  # noqa: PLC0415

        name = self.name

        spec = self.spec.to_dict()

        revision = self.revision

        resource_version = self.resource_version

        status = self.status.to_dict()

        current_rollout: dict[str, Any] | None
        if isinstance(self.current_rollout, RolloutRead):
            current_rollout = self.current_rollout.to_dict()
        else:
            current_rollout = self.current_rollout

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        stack: None | str | Unset
        if isinstance(self.stack, Unset):
            stack = UNSET
        else:
            stack = self.stack

        endpoint: dict[str, Any] | None | Unset
        if isinstance(self.endpoint, Unset):
            endpoint = UNSET
        elif isinstance(self.endpoint, EndpointRead):
            endpoint = self.endpoint.to_dict()
        else:
            endpoint = self.endpoint

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "spec": spec,
                "revision": revision,
                "resource_version": resource_version,
                "status": status,
                "current_rollout": current_rollout,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if stack is not UNSET:
            field_dict["stack"] = stack
        if endpoint is not UNSET:
            field_dict["endpoint"] = endpoint

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.deployment_status import DeploymentStatus  # noqa: PLC0415
        from ..models.endpoint_read import EndpointRead  # noqa: PLC0415
        from ..models.rollout_read import RolloutRead  # noqa: PLC0415
        from ..models.spec_read import SpecRead  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        spec = SpecRead.from_dict(d.pop("spec"))

        revision = d.pop("revision")

        resource_version = d.pop("resource_version")

        status = DeploymentStatus.from_dict(d.pop("status"))

        def _parse_current_rollout(data: object) -> None | RolloutRead:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                current_rollout_type_0 = RolloutRead.from_dict(data)

                return current_rollout_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RolloutRead, data)

        current_rollout = _parse_current_rollout(d.pop("current_rollout"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_stack(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        stack = _parse_stack(d.pop("stack", UNSET))

        def _parse_endpoint(data: object) -> EndpointRead | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                endpoint_type_0 = EndpointRead.from_dict(data)

                return endpoint_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EndpointRead | None | Unset, data)

        endpoint = _parse_endpoint(d.pop("endpoint", UNSET))

        deployment_read = cls(
            name=name,
            spec=spec,
            revision=revision,
            resource_version=resource_version,
            status=status,
            current_rollout=current_rollout,
            created_at=created_at,
            updated_at=updated_at,
            stack=stack,
            endpoint=endpoint,
        )

        deployment_read.additional_properties = d
        return deployment_read

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
