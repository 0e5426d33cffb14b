from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="HttpCheck")


@_attrs_define
class HttpCheck:
    """
    Attributes:
        port (int):
        path (str | Unset):  Default: '/'.
    """

    port: int
    path: str | Unset = "/"

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        path = self.path

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "port": port,
            }
        )
        if path is not UNSET:
            field_dict["path"] = path

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        port = d.pop("port")

        path = d.pop("path", UNSET)

        http_check = cls(
            port=port,
            path=path,
        )

        return http_check
