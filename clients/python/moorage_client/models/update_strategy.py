from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateStrategy")


@_attrs_define
class UpdateStrategy:
    """
    Attributes:
        max_surge (int | Unset):  Default: 1.
        max_unavailable (int | Unset):  Default: 0.
        min_ready_s (float | Unset):  Default: 0.0.
        progress_deadline_s (float | Unset):  Default: 600.0.
        auto_rollback (bool | Unset):  Default: True.
    """

    max_surge: int | Unset = 1
    max_unavailable: int | Unset = 0
    min_ready_s: float | Unset = 0.0
    progress_deadline_s: float | Unset = 600.0
    auto_rollback: bool | Unset = True

    def to_dict(self) -> dict[str, Any]:
        max_surge = self.max_surge

        max_unavailable = self.max_unavailable

        min_ready_s = self.min_ready_s

        progress_deadline_s = self.progress_deadline_s

        auto_rollback = self.auto_rollback

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if max_surge is not UNSET:
            field_dict["max_surge"] = max_surge
        if max_unavailable is not UNSET:
            field_dict["max_unavailable"] = max_unavailable
        if min_ready_s is not UNSET:
            field_dict["min_ready_s"] = min_ready_s
        if progress_deadline_s is not UNSET:
            field_dict["progress_deadline_s"] = progress_deadline_s
        if auto_rollback is not UNSET:
            field_dict["auto_rollback"] = auto_rollback

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_surge = d.pop("max_surge", UNSET)

        max_unavailable = d.pop("max_unavailable", UNSET)

        min_ready_s = d.pop("min_ready_s", UNSET)

        progress_deadline_s = d.pop("progress_deadline_s", UNSET)

        auto_rollback = d.pop("auto_rollback", UNSET)

        update_strategy = cls(
            max_surge=max_surge,
            max_unavailable=max_unavailable,
            min_ready_s=min_ready_s,
            progress_deadline_s=progress_deadline_s,
            auto_rollback=auto_rollback,
        )

        return update_strategy
