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
        edge (bool | None | Unset): Make it an edge (its proxy is started) or not (its proxy is removed)
        edge_address (None | str | Unset): Where this edge's proxy listens and what endpoint URLs name (also where other
            edges reach replicas published here). null: the host part of `url` (127.0.0.1 for unix://). `0.0.0.0` listens on
            every address.
    """

    labels: HostUpdateLabelsType0 | None | Unset = UNSET
    schedulable: bool | None | Unset = UNSET
    allowed_bind_prefixes: list[str] | None | Unset = UNSET
    edge: bool | None | Unset = UNSET
    edge_address: None | str | Unset = UNSET

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

        edge: bool | None | Unset
        if isinstance(self.edge, Unset):
            edge = UNSET
        else:
            edge = self.edge

        edge_address: None | str | Unset
        if isinstance(self.edge_address, Unset):
            edge_address = UNSET
        else:
            edge_address = self.edge_address

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if labels is not UNSET:
            field_dict["labels"] = labels
        if schedulable is not UNSET:
            field_dict["schedulable"] = schedulable
        if allowed_bind_prefixes is not UNSET:
            field_dict["allowed_bind_prefixes"] = allowed_bind_prefixes
        if edge is not UNSET:
            field_dict["edge"] = edge
        if edge_address is not UNSET:
            field_dict["edge_address"] = edge_address

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

        def _parse_edge(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        edge = _parse_edge(d.pop("edge", UNSET))

        def _parse_edge_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        edge_address = _parse_edge_address(d.pop("edge_address", UNSET))

        host_update = cls(
            labels=labels,
            schedulable=schedulable,
            allowed_bind_prefixes=allowed_bind_prefixes,
            edge=edge,
            edge_address=edge_address,
        )

        return host_update
