from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.host_update_labels_type_0 import HostUpdateLabelsType0


T = TypeVar("T", bound="HostUpdate")


@_attrs_define
class HostUpdate:
    """
    Attributes:
        labels (HostUpdateLabelsType0 | None | Unset):
        schedulable (bool | None | Unset):
        allowed_bind_prefixes (list[str] | None | Unset): Replaces the host's list (`[]`: none). Replicas binding a path
            it no longer allows move elsewhere, like a drain.
    """

    labels: HostUpdateLabelsType0 | None | Unset = UNSET
    schedulable: bool | None | Unset = UNSET
    allowed_bind_prefixes: list[str] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.host_update_labels_type_0 import HostUpdateLabelsType0  # noqa: PLC0415

        labels: dict[str, Any] | None | Unset
        if isinstance(self.labels, Unset):
            labels = UNSET
        elif isinstance(self.labels, HostUpdateLabelsType0):
            labels = self.labels.to_dict()
        else:
            labels = self.labels

        schedulable: bool | None | Unset
        if isinstance(self.schedulable, Unset):
            schedulable = UNSET
        else:
            schedulable = self.schedulable

        allowed_bind_prefixes: list[str] | None | Unset
        if isinstance(self.allowed_bind_prefixes, Unset):
            allowed_bind_prefixes = UNSET
        elif isinstance(self.allowed_bind_prefixes, list):
            allowed_bind_prefixes = self.allowed_bind_prefixes

        else:
            allowed_bind_prefixes = self.allowed_bind_prefixes

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if labels is not UNSET:
            field_dict["labels"] = labels
        if schedulable is not UNSET:
            field_dict["schedulable"] = schedulable
        if allowed_bind_prefixes is not UNSET:
            field_dict["allowed_bind_prefixes"] = allowed_bind_prefixes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.host_update_labels_type_0 import HostUpdateLabelsType0  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_labels(data: object) -> HostUpdateLabelsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                labels_type_0 = HostUpdateLabelsType0.from_dict(data)

                return labels_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HostUpdateLabelsType0 | None | Unset, data)

        labels = _parse_labels(d.pop("labels", UNSET))

        def _parse_schedulable(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        schedulable = _parse_schedulable(d.pop("schedulable", UNSET))

        def _parse_allowed_bind_prefixes(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                allowed_bind_prefixes_type_0 = cast(list[str], data)

                return allowed_bind_prefixes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        allowed_bind_prefixes = _parse_allowed_bind_prefixes(d.pop("allowed_bind_prefixes", UNSET))

        host_update = cls(
            labels=labels,
            schedulable=schedulable,
            allowed_bind_prefixes=allowed_bind_prefixes,
        )

        return host_update
