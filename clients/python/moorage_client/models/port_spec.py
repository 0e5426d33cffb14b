from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.port_spec_protocol import PortSpecProtocol
from ..types import UNSET, Unset

T = TypeVar("T", bound="PortSpec")


@_attrs_define
class PortSpec:
    """
    Attributes:
        container_port (int):
        host_port (int | None | Unset): null picks any free port
        protocol (PortSpecProtocol | Unset):  Default: PortSpecProtocol.TCP.
        host_ip (str | Unset):  Default: '0.0.0.0'.
    """

    container_port: int
    host_port: int | None | Unset = UNSET
    protocol: PortSpecProtocol | Unset = PortSpecProtocol.TCP
    host_ip: str | Unset = "0.0.0.0"

    def to_dict(self) -> dict[str, Any]:
        container_port = self.container_port

        host_port: int | None | Unset
        if isinstance(self.host_port, Unset):
            host_port = UNSET
        else:
            host_port = self.host_port

        protocol: str | Unset = UNSET
        if not isinstance(self.protocol, Unset):
            protocol = self.protocol.value

        host_ip = self.host_ip

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "container_port": container_port,
            }
        )
        if host_port is not UNSET:
            field_dict["host_port"] = host_port
        if protocol is not UNSET:
            field_dict["protocol"] = protocol
        if host_ip is not UNSET:
            field_dict["host_ip"] = host_ip

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        container_port = d.pop("container_port")

        def _parse_host_port(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        host_port = _parse_host_port(d.pop("host_port", UNSET))

        _protocol = d.pop("protocol", UNSET)
        protocol: PortSpecProtocol | Unset
        if isinstance(_protocol, Unset):
            protocol = UNSET
        else:
            protocol = PortSpecProtocol(_protocol)

        host_ip = d.pop("host_ip", UNSET)

        port_spec = cls(
            container_port=container_port,
            host_port=host_port,
            protocol=protocol,
            host_ip=host_ip,
        )

        return port_spec
