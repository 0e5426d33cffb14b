from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.apply_stack_json_stack_apply_secrets import ApplyStackJsonStackApplySecrets


T = TypeVar("T", bound="ApplyStackJsonStackApply")


@_attrs_define
class ApplyStackJsonStackApply:
    """A Compose file as JSON, with the values of its top-level `secrets`.

    Attributes:
        compose (str): The Compose file's text (YAML or JSON)
        secrets (ApplyStackJsonStackApplySecrets | Unset): Write-only: a value for each of the file's top-level
            `secrets`, passed to the services that list it as an environment variable (its `target`, else its name)
    """

    compose: str
    secrets: ApplyStackJsonStackApplySecrets | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        compose = self.compose

        secrets: dict[str, Any] | Unset = UNSET
        if not isinstance(self.secrets, Unset):
            secrets = self.secrets.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "compose": compose,
            }
        )
        if secrets is not UNSET:
            field_dict["secrets"] = secrets

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.apply_stack_json_stack_apply_secrets import ApplyStackJsonStackApplySecrets  # noqa: PLC0415

        d = dict(src_dict)
        compose = d.pop("compose")

        _secrets = d.pop("secrets", UNSET)
        secrets: ApplyStackJsonStackApplySecrets | Unset
        if isinstance(_secrets, Unset):
            secrets = UNSET
        else:
            secrets = ApplyStackJsonStackApplySecrets.from_dict(_secrets)

        apply_stack_json_stack_apply = cls(
            compose=compose,
            secrets=secrets,
        )

        return apply_stack_json_stack_apply
