from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_read_kind import WebhookReadKind

T = TypeVar("T", bound="WebhookRead")


@_attrs_define
class WebhookRead:
    """
    Attributes:
        id (UUID):
        deployment (str):
        kind (WebhookReadKind):
        tag_pattern (None | str):
        url (str): Where the provider posts: /v1/hooks/{id}
        created_at (datetime.datetime):
    """

    id: UUID
    deployment: str
    kind: WebhookReadKind
    tag_pattern: None | str
    url: str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        deployment = self.deployment

        kind = self.kind.value

        tag_pattern: None | str
        tag_pattern = self.tag_pattern

        url = self.url

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "deployment": deployment,
                "kind": kind,
                "tag_pattern": tag_pattern,
                "url": url,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        deployment = d.pop("deployment")

        kind = WebhookReadKind(d.pop("kind"))

        def _parse_tag_pattern(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        tag_pattern = _parse_tag_pattern(d.pop("tag_pattern"))

        url = d.pop("url")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        webhook_read = cls(
            id=id,
            deployment=deployment,
            kind=kind,
            tag_pattern=tag_pattern,
            url=url,
            created_at=created_at,
        )

        webhook_read.additional_properties = d
        return webhook_read

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
