from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.revision_spec_read import RevisionSpecRead


T = TypeVar("T", bound="RevisionRead")


@_attrs_define
class RevisionRead:
    """
    Attributes:
        number (int):
        spec (RevisionSpecRead): A revision's spec as the API returns it: secret values are replaced by their
            names. No `replicas`: that is the deployment's (scaling makes no revision).
        image_digest (None | str):
        created_at (datetime.datetime):
    """

    number: int
    spec: RevisionSpecRead
    image_digest: None | str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        spec = self.spec.to_dict()

        image_digest: None | str
        image_digest = self.image_digest

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "number": number,
                "spec": spec,
                "image_digest": image_digest,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.revision_spec_read import RevisionSpecRead  # noqa: PLC0415

        d = dict(src_dict)
        number = d.pop("number")

        spec = RevisionSpecRead.from_dict(d.pop("spec"))

        def _parse_image_digest(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        image_digest = _parse_image_digest(d.pop("image_digest"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        revision_read = cls(
            number=number,
            spec=spec,
            image_digest=image_digest,
            created_at=created_at,
        )

        revision_read.additional_properties = d
        return revision_read

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
