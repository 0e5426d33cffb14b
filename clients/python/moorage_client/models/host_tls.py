from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="HostTLS")


@_attrs_define
class HostTLS:
    """Client TLS for a tcp:// engine. Write-only: stored with the host, never returned.

    Attributes:
        ca_cert (None | str | Unset):
        client_cert (None | str | Unset):
        client_key (None | str | Unset):
    """

    ca_cert: None | str | Unset = UNSET
    client_cert: None | str | Unset = UNSET
    client_key: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        ca_cert: None | str | Unset
        if isinstance(self.ca_cert, Unset):
            ca_cert = UNSET
        else:
            ca_cert = self.ca_cert

        client_cert: None | str | Unset
        if isinstance(self.client_cert, Unset):
            client_cert = UNSET
        else:
            client_cert = self.client_cert

        client_key: None | str | Unset
        if isinstance(self.client_key, Unset):
            client_key = UNSET
        else:
            client_key = self.client_key

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if ca_cert is not UNSET:
            field_dict["ca_cert"] = ca_cert
        if client_cert is not UNSET:
            field_dict["client_cert"] = client_cert
        if client_key is not UNSET:
            field_dict["client_key"] = client_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_ca_cert(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ca_cert = _parse_ca_cert(d.pop("ca_cert", UNSET))

        def _parse_client_cert(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_cert = _parse_client_cert(d.pop("client_cert", UNSET))

        def _parse_client_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_key = _parse_client_key(d.pop("client_key", UNSET))

        host_tls = cls(
            ca_cert=ca_cert,
            client_cert=client_cert,
            client_key=client_key,
        )

        return host_tls
