from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.process_status import ProcessStatus
    from ..models.workers_problem_errors_type_0_item import WorkersProblemErrorsType0Item


T = TypeVar("T", bound="WorkersProblem")


@_attrs_define
class WorkersProblem:
    """
    Attributes:
        title (str):
        status (int):
        workers_alive (int):
        workers_consuming (int):
        beats_alive (int):
        processes (list[ProcessStatus]):
        type_ (str | Unset):  Default: 'about:blank'.
        detail (str | Unset):  Default: ''.
        errors (list[WorkersProblemErrorsType0Item] | None | Unset):
    """

    title: str
    status: int
    workers_alive: int
    workers_consuming: int
    beats_alive: int
    processes: list[ProcessStatus]
    type_: str | Unset = "about:blank"
    detail: str | Unset = ""
    errors: list[WorkersProblemErrorsType0Item] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        status = self.status

        workers_alive = self.workers_alive

        workers_consuming = self.workers_consuming

        beats_alive = self.beats_alive

        processes = []
        for processes_item_data in self.processes:
            processes_item = processes_item_data.to_dict()
            processes.append(processes_item)

        type_ = self.type_

        detail = self.detail

        errors: list[dict[str, Any]] | None | Unset
        if isinstance(self.errors, Unset):
            errors = UNSET
        elif isinstance(self.errors, list):
            errors = []
            for errors_type_0_item_data in self.errors:
                errors_type_0_item = errors_type_0_item_data.to_dict()
                errors.append(errors_type_0_item)

        else:
            errors = self.errors

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "title": title,
                "status": status,
                "workers_alive": workers_alive,
                "workers_consuming": workers_consuming,
                "beats_alive": beats_alive,
                "processes": processes,
            }
        )
        if type_ is not UNSET:
            field_dict["type"] = type_
        if detail is not UNSET:
            field_dict["detail"] = detail
        if errors is not UNSET:
            field_dict["errors"] = errors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.process_status import ProcessStatus  # noqa: PLC0415
        from ..models.workers_problem_errors_type_0_item import WorkersProblemErrorsType0Item  # noqa: PLC0415

        d = dict(src_dict)
        title = d.pop("title")

        status = d.pop("status")

        workers_alive = d.pop("workers_alive")

        workers_consuming = d.pop("workers_consuming")

        beats_alive = d.pop("beats_alive")

        processes = []
        _processes = d.pop("processes")
        for processes_item_data in _processes:
            processes_item = ProcessStatus.from_dict(processes_item_data)

            processes.append(processes_item)

        type_ = d.pop("type", UNSET)

        detail = d.pop("detail", UNSET)

        def _parse_errors(data: object) -> list[WorkersProblemErrorsType0Item] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                errors_type_0 = []
                _errors_type_0 = data
                for errors_type_0_item_data in _errors_type_0:
                    errors_type_0_item = WorkersProblemErrorsType0Item.from_dict(errors_type_0_item_data)

                    errors_type_0.append(errors_type_0_item)

                return errors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[WorkersProblemErrorsType0Item] | None | Unset, data)

        errors = _parse_errors(d.pop("errors", UNSET))

        workers_problem = cls(
            title=title,
            status=status,
            workers_alive=workers_alive,
            workers_consuming=workers_consuming,
            beats_alive=beats_alive,
            processes=processes,
            type_=type_,
            detail=detail,
            errors=errors,
        )

        workers_problem.additional_properties = d
        return workers_problem

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
