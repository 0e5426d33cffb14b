from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.field_change import FieldChange
    from ..models.planned_action import PlannedAction


T = TypeVar("T", bound="DryRunResult")


@_attrs_define
class DryRunResult:
    """
    Attributes:
        new_revision (bool):
        revision (int):
        changes (list[FieldChange]):
        actions (list[PlannedAction]):
        dry_run (bool | Unset):  Default: True.
        pending (list[str] | Unset): Why replicas could not be placed (no host matches, or allows a host path), from the
            last observation
    """

    new_revision: bool
    revision: int
    changes: list[FieldChange]
    actions: list[PlannedAction]
    dry_run: bool | Unset = True
    pending: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        new_revision = self.new_revision

        revision = self.revision

        changes = []
        for changes_item_data in self.changes:
            changes_item = changes_item_data.to_dict()
            changes.append(changes_item)

        actions = []
        for actions_item_data in self.actions:
            actions_item = actions_item_data.to_dict()
            actions.append(actions_item)

        dry_run = self.dry_run

        pending: list[str] | Unset = UNSET
        if not isinstance(self.pending, Unset):
            pending = self.pending

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "new_revision": new_revision,
                "revision": revision,
                "changes": changes,
                "actions": actions,
            }
        )
        if dry_run is not UNSET:
            field_dict["dry_run"] = dry_run
        if pending is not UNSET:
            field_dict["pending"] = pending

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.field_change import FieldChange  # noqa: PLC0415
        from ..models.planned_action import PlannedAction  # noqa: PLC0415

        d = dict(src_dict)
        new_revision = d.pop("new_revision")

        revision = d.pop("revision")

        changes = []
        _changes = d.pop("changes")
        for changes_item_data in _changes:
            changes_item = FieldChange.from_dict(changes_item_data)

            changes.append(changes_item)

        actions = []
        _actions = d.pop("actions")
        for actions_item_data in _actions:
            actions_item = PlannedAction.from_dict(actions_item_data)

            actions.append(actions_item)

        dry_run = d.pop("dry_run", UNSET)

        pending = cast(list[str], d.pop("pending", UNSET))

        dry_run_result = cls(
            new_revision=new_revision,
            revision=revision,
            changes=changes,
            actions=actions,
            dry_run=dry_run,
            pending=pending,
        )

        dry_run_result.additional_properties = d
        return dry_run_result

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
