from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StackRevisionRead")


@_attrs_define
class StackRevisionRead:
    """
    Attributes:
        number (int):
        compose (str): The file as it was sent
        services (list[str]):
        secret_keys (list[str]): Names of the secrets given; values are write-only
        created_at (datetime.datetime):
    """

    number: int
    compose: str
    services: list[str]
    secret_keys: list[str]
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        compose = self.compose

        services = self.services

        secret_keys = self.secret_keys

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "number": number,
                "compose": compose,
                "services": services,
                "secret_keys": secret_keys,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        number = d.pop("number")

        compose = d.pop("compose")

        services = cast(list[str], d.pop("services"))

        secret_keys = cast(list[str], d.pop("secret_keys"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        stack_revision_read = cls(
            number=number,
            compose=compose,
            services=services,
            secret_keys=secret_keys,
            created_at=created_at,
        )

        stack_revision_read.additional_properties = d
        return stack_revision_read

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
