from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.upstream_read import UpstreamRead


T = TypeVar("T", bound="EndpointRead")


@_attrs_define
class EndpointRead:
    """
    Attributes:
        port (int):
        listen_port (int | None): The port every edge serves it on (kept)
        drain_timeout_s (float):
        urls (list[str]): Full URLs a caller can use: each edge at listen_port, then each hostname on the edges' shared
            HTTP port
        upstreams (list[UpstreamRead]): The replicas the edges send to, as the reconciler last set them
        hostnames (list[str] | Unset):
    """

    port: int
    listen_port: int | None
    drain_timeout_s: float
    urls: list[str]
    upstreams: list[UpstreamRead]
    hostnames: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        listen_port: int | None
        listen_port = self.listen_port

        drain_timeout_s = self.drain_timeout_s

        urls = self.urls

        upstreams = []
        for upstreams_item_data in self.upstreams:
            upstreams_item = upstreams_item_data.to_dict()
            upstreams.append(upstreams_item)

        hostnames: list[str] | Unset = UNSET
        if not isinstance(self.hostnames, Unset):
            hostnames = self.hostnames

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "port": port,
                "listen_port": listen_port,
                "drain_timeout_s": drain_timeout_s,
                "urls": urls,
                "upstreams": upstreams,
            }
        )
        if hostnames is not UNSET:
            field_dict["hostnames"] = hostnames

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.upstream_read import UpstreamRead  # noqa: PLC0415

        d = dict(src_dict)
        port = d.pop("port")

        def _parse_listen_port(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        listen_port = _parse_listen_port(d.pop("listen_port"))

        drain_timeout_s = d.pop("drain_timeout_s")

        urls = cast(list[str], d.pop("urls"))

        upstreams = []
        _upstreams = d.pop("upstreams")
        for upstreams_item_data in _upstreams:
            upstreams_item = UpstreamRead.from_dict(upstreams_item_data)

            upstreams.append(upstreams_item)

        hostnames = cast(list[str], d.pop("hostnames", UNSET))

        endpoint_read = cls(
            port=port,
            listen_port=listen_port,
            drain_timeout_s=drain_timeout_s,
            urls=urls,
            upstreams=upstreams,
            hostnames=hostnames,
        )

        endpoint_read.additional_properties = d
        return endpoint_read

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
