from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PlacementSpec")


@_attrs_define
class PlacementSpec:
    """
    Attributes:
        constraints (list[str] | Unset):
        max_per_host (int | None | Unset):
    """

    constraints: list[str] | Unset = UNSET
    max_per_host: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        constraints: list[str] | Unset = UNSET
        if not isinstance(self.constraints, Unset):
            constraints = self.constraints

        max_per_host: int | None | Unset
        if isinstance(self.max_per_host, Unset):
            max_per_host = UNSET
        else:
            max_per_host = self.max_per_host

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if constraints is not UNSET:
            field_dict["constraints"] = constraints
        if max_per_host is not UNSET:
            field_dict["max_per_host"] = max_per_host

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        constraints = cast(list[str], d.pop("constraints", UNSET))

        def _parse_max_per_host(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_per_host = _parse_max_per_host(d.pop("max_per_host", UNSET))

        placement_spec = cls(
            constraints=constraints,
            max_per_host=max_per_host,
        )

        return placement_spec
