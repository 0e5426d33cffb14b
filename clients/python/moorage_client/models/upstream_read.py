from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.upstream_read_state import UpstreamReadState

T = TypeVar("T", bound="UpstreamRead")


@_attrs_define
class UpstreamRead:
    """
    Attributes:
        host (str):
        replica (str): The replica's container name
        address (str): Where the edges send to: its published address on its host
        revision (int):
        state (UpstreamReadState): serving: in the edges' upstreams; draining: taken out, its requests in flight
            finishing before it is stopped
    """

    host: str
    replica: str
    address: str
    revision: int
    state: UpstreamReadState
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        host = self.host

        replica = self.replica

        address = self.address

        revision = self.revision

        state = self.state.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "host": host,
                "replica": replica,
                "address": address,
                "revision": revision,
                "state": state,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        host = d.pop("host")

        replica = d.pop("replica")

        address = d.pop("address")

        revision = d.pop("revision")

        state = UpstreamReadState(d.pop("state"))

        upstream_read = cls(
            host=host,
            replica=replica,
            address=address,
            revision=revision,
            state=state,
        )

        upstream_read.additional_properties = d
        return upstream_read

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
