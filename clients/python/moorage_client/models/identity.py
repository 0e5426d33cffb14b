from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.identity_allows_item import IdentityAllowsItem
from ..models.identity_scopes_item import IdentityScopesItem

T = TypeVar("T", bound="Identity")


@_attrs_define
class Identity:
    """Who a token is (`GET /v1/whoami`).

    Attributes:
        id (UUID):
        name (str):
        scopes (list[IdentityScopesItem]): The scopes the token was made with
        allows (list[IdentityAllowsItem]): Every scope the token's calls pass: its own and those they include (read <
            deploy < admin)
    """

    id: UUID
    name: str
    scopes: list[IdentityScopesItem]
    allows: list[IdentityAllowsItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        scopes = []
        for scopes_item_data in self.scopes:
            scopes_item = scopes_item_data.value
            scopes.append(scopes_item)

        allows = []
        for allows_item_data in self.allows:
            allows_item = allows_item_data.value
            allows.append(allows_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "scopes": scopes,
                "allows": allows,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        scopes = []
        _scopes = d.pop("scopes")
        for scopes_item_data in _scopes:
            scopes_item = IdentityScopesItem(scopes_item_data)

            scopes.append(scopes_item)

        allows = []
        _allows = d.pop("allows")
        for allows_item_data in _allows:
            allows_item = IdentityAllowsItem(allows_item_data)

            allows.append(allows_item)

        identity = cls(
            id=id,
            name=name,
            scopes=scopes,
            allows=allows,
        )

        identity.additional_properties = d
        return identity

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
