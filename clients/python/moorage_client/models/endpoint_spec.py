from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="EndpointSpec")


@_attrs_define
class EndpointSpec:
    """
    Attributes:
        port (int): The container port the proxy sends requests to
        hostnames (list[str] | Unset): Also served on the edges' shared HTTP port (MOORAGE_EDGE_HTTP_PORT) for these
            Host names
        listen_port (int | None | Unset): The port every edge serves the deployment on; null: Moorage chooses one once
            (MOORAGE_ENDPOINT_PORT_RANGE) and keeps it
        drain_timeout_s (float | Unset): How long requests in flight to a leaving replica may take to finish before it
            is stopped anyway Default: 30.0.
    """

    port: int
    hostnames: list[str] | Unset = UNSET
    listen_port: int | None | Unset = UNSET
    drain_timeout_s: float | Unset = 30.0

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        hostnames: list[str] | Unset = UNSET
        if not isinstance(self.hostnames, Unset):
            hostnames = self.hostnames

        listen_port: int | None | Unset
        if isinstance(self.listen_port, Unset):
            listen_port = UNSET
        else:
            listen_port = self.listen_port

        drain_timeout_s = self.drain_timeout_s

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "port": port,
            }
        )
        if hostnames is not UNSET:
            field_dict["hostnames"] = hostnames
        if listen_port is not UNSET:
            field_dict["listen_port"] = listen_port
        if drain_timeout_s is not UNSET:
            field_dict["drain_timeout_s"] = drain_timeout_s

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        port = d.pop("port")

        hostnames = cast(list[str], d.pop("hostnames", UNSET))

        def _parse_listen_port(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        listen_port = _parse_listen_port(d.pop("listen_port", UNSET))

        drain_timeout_s = d.pop("drain_timeout_s", UNSET)

        endpoint_spec = cls(
            port=port,
            hostnames=hostnames,
            listen_port=listen_port,
            drain_timeout_s=drain_timeout_s,
        )

        return endpoint_spec
