from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.webhook_create_kind import WebhookCreateKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookCreate")


@_attrs_define
class WebhookCreate:
    """
    Attributes:
        kind (WebhookCreateKind): What posts to it. `generic`, `github` and `registry` deliveries must be signed
            (`X-Hub-Signature-256`), or for `registry`, carry `Authorization: Bearer <secret>` (a registry's notifications
            cannot sign); `dockerhub` cannot sign either, so its URL is its secret.
        tag_pattern (None | str | Unset): A regular expression (RE2 syntax: no backreferences or lookaround) the whole
            pushed tag must match; None: any tag
    """

    kind: WebhookCreateKind
    tag_pattern: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        tag_pattern: None | str | Unset
        if isinstance(self.tag_pattern, Unset):
            tag_pattern = UNSET
        else:
            tag_pattern = self.tag_pattern

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
            }
        )
        if tag_pattern is not UNSET:
            field_dict["tag_pattern"] = tag_pattern

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = WebhookCreateKind(d.pop("kind"))

        def _parse_tag_pattern(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tag_pattern = _parse_tag_pattern(d.pop("tag_pattern", UNSET))

        webhook_create = cls(
            kind=kind,
            tag_pattern=tag_pattern,
        )

        return webhook_create
