from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="HostSSH")


@_attrs_define
class HostSSH:
    """How to log in to an ssh:// host. Write-only: stored with the host, never returned.

    Attributes:
        private_key (str): The private key, OpenSSH or PEM text, without a passphrase
        known_hosts (str): known_hosts lines for the host; any other host key is refused
    """

    private_key: str
    known_hosts: str

    def to_dict(self) -> dict[str, Any]:
        private_key = self.private_key

        known_hosts = self.known_hosts

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "private_key": private_key,
                "known_hosts": known_hosts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        private_key = d.pop("private_key")

        known_hosts = d.pop("known_hosts")

        host_ssh = cls(
            private_key=private_key,
            known_hosts=known_hosts,
        )

        return host_ssh
