from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.phase import Phase
from ..models.stack_service_read_failure_action import StackServiceReadFailureAction

if TYPE_CHECKING:
    from ..models.stack_service_read_depends_on import StackServiceReadDependsOn


T = TypeVar("T", bound="StackServiceRead")


@_attrs_define
class StackServiceRead:
    """
    Attributes:
        name (str):
        deployment (str): The deployment that runs it: `<stack>-<service>`
        depends_on (StackServiceReadDependsOn): dependency -> condition
        failure_action (StackServiceReadFailureAction):
        phase (None | Phase): Its deployment's phase (null: not yet made)
        replicas (int):
        ready_replicas (int):
        revision (int | None): Its deployment's current revision
        message (str):
    """

    name: str
    deployment: str
    depends_on: StackServiceReadDependsOn
    failure_action: StackServiceReadFailureAction
    phase: None | Phase
    replicas: int
    ready_replicas: int
    revision: int | None
    message: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        deployment = self.deployment

        depends_on = self.depends_on.to_dict()

        failure_action = self.failure_action.value

        phase: None | str
        if isinstance(self.phase, Phase):
            phase = self.phase.value
        else:
            phase = self.phase

        replicas = self.replicas

        ready_replicas = self.ready_replicas

        revision: int | None
        revision = self.revision

        message = self.message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "deployment": deployment,
                "depends_on": depends_on,
                "failure_action": failure_action,
                "phase": phase,
                "replicas": replicas,
                "ready_replicas": ready_replicas,
                "revision": revision,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.stack_service_read_depends_on import StackServiceReadDependsOn  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        deployment = d.pop("deployment")

        depends_on = StackServiceReadDependsOn.from_dict(d.pop("depends_on"))

        failure_action = StackServiceReadFailureAction(d.pop("failure_action"))

        def _parse_phase(data: object) -> None | Phase:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                phase_type_0 = Phase(data)

                return phase_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Phase, data)

        phase = _parse_phase(d.pop("phase"))

        replicas = d.pop("replicas")

        ready_replicas = d.pop("ready_replicas")

        def _parse_revision(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        revision = _parse_revision(d.pop("revision"))

        message = d.pop("message")

        stack_service_read = cls(
            name=name,
            deployment=deployment,
            depends_on=depends_on,
            failure_action=failure_action,
            phase=phase,
            replicas=replicas,
            ready_replicas=ready_replicas,
            revision=revision,
            message=message,
        )

        stack_service_read.additional_properties = d
        return stack_service_read

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
