from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ReplicaPort")


@_attrs_define
class ReplicaPort:
    """
    Attributes:
        container_port (int):
        host_ip (None | str):
        host_port (int | None):
    """

    container_port: int
    host_ip: None | str
    host_port: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        container_port = self.container_port

        host_ip: None | str
        host_ip = self.host_ip

        host_port: int | None
        host_port = self.host_port

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "container_port": container_port,
                "host_ip": host_ip,
                "host_port": host_port,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        container_port = d.pop("container_port")

        def _parse_host_ip(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        host_ip = _parse_host_ip(d.pop("host_ip"))

        def _parse_host_port(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        host_port = _parse_host_port(d.pop("host_port"))

        replica_port = cls(
            container_port=container_port,
            host_ip=host_ip,
            host_port=host_port,
        )

        replica_port.additional_properties = d
        return replica_port

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
