from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.process_status import ProcessStatus


T = TypeVar("T", bound="WorkersHealth")


@_attrs_define
class WorkersHealth:
    """
    Attributes:
        status (Literal['ok']):
        workers_alive (int):
        workers_consuming (int):
        beats_alive (int):
        processes (list[ProcessStatus]): Every process heard from in the last hour, alive or not
    """

    status: Literal["ok"]
    workers_alive: int
    workers_consuming: int
    beats_alive: int
    processes: list[ProcessStatus]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        workers_alive = self.workers_alive

        workers_consuming = self.workers_consuming

        beats_alive = self.beats_alive

        processes = []
        for processes_item_data in self.processes:
            processes_item = processes_item_data.to_dict()
            processes.append(processes_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "workers_alive": workers_alive,
                "workers_consuming": workers_consuming,
                "beats_alive": beats_alive,
                "processes": processes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.process_status import ProcessStatus  # noqa: PLC0415

        d = dict(src_dict)
        status = cast(Literal["ok"], d.pop("status"))
        if status != "ok":
            raise ValueError(f"status must match const 'ok', got '{status}'")

        workers_alive = d.pop("workers_alive")

        workers_consuming = d.pop("workers_consuming")

        beats_alive = d.pop("beats_alive")

        processes = []
        _processes = d.pop("processes")
        for processes_item_data in _processes:
            processes_item = ProcessStatus.from_dict(processes_item_data)

            processes.append(processes_item)

        workers_health = cls(
            status=status,
            workers_alive=workers_alive,
            workers_consuming=workers_consuming,
            beats_alive=beats_alive,
            processes=processes,
        )

        workers_health.additional_properties = d
        return workers_health

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
