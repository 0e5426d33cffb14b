from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.host_create_labels import HostCreateLabels
    from ..models.host_ssh import HostSSH
    from ..models.host_tls import HostTLS


T = TypeVar("T", bound="HostCreate")


@_attrs_define
class HostCreate:
    """
    Attributes:
        name (str):
        url (str):
        labels (HostCreateLabels | Unset):
        tls (HostTLS | None | Unset):
        ssh (HostSSH | None | Unset):
        allowed_bind_prefixes (list[str] | Unset): Admin only. Host paths deployments may bind on this host, beside the
            global `MOORAGE_ALLOWED_BIND_PREFIXES` (a deployment whose host paths only some hosts allow is placed on those).
            `"/srv/app"` allows binding that very path, read-write or read-only (nothing below a read-write entry is bound:
            a container could plant a symlink there); `"/srv/config:ro"` allows read-only binds at or below it. Escalation
            paths (the Docker socket, /proc, /sys, /dev, /etc, /run, /var/lib/docker, this engine's socket and data root,
            ...) are unlocked only by an entry at or below them, never by a broader one. Paths are normalised; `..` is
            refused. Empty (the default): none.
        edge (bool | None | Unset): An edge runs Moorage's proxy (Caddy) and serves every deployment's endpoint. Default
            when registering: true for the first host (with one host, it is the edge), false for the others.
        edge_address (None | str | Unset): Where this edge's proxy listens and what endpoint URLs name (also where other
            edges reach replicas published here). null: the host part of `url` (127.0.0.1 for unix://). `0.0.0.0` listens on
            every address.
    """

    name: str
    url: str
    labels: HostCreateLabels | Unset = UNSET
    tls: HostTLS | None | Unset = UNSET
    ssh: HostSSH | None | Unset = UNSET
    allowed_bind_prefixes: list[str] | Unset = UNSET
    edge: bool | None | Unset = UNSET
    edge_address: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.host_ssh import HostSSH  # noqa: PLC0415
        from ..models.host_tls import HostTLS  # noqa: PLC0415

        name = self.name

        url = self.url

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        tls: dict[str, Any] | None | Unset
        if isinstance(self.tls, Unset):
            tls = UNSET
        elif isinstance(self.tls, HostTLS):
            tls = self.tls.to_dict()
        else:
            tls = self.tls

        ssh: dict[str, Any] | None | Unset
        if isinstance(self.ssh, Unset):
            ssh = UNSET
        elif isinstance(self.ssh, HostSSH):
            ssh = self.ssh.to_dict()
        else:
            ssh = self.ssh

        allowed_bind_prefixes: list[str] | Unset = UNSET
        if not isinstance(self.allowed_bind_prefixes, Unset):
            allowed_bind_prefixes = self.allowed_bind_prefixes

        edge: bool | None | Unset
        if isinstance(self.edge, Unset):
            edge = UNSET
        else:
            edge = self.edge

        edge_address: None | str | Unset
        if isinstance(self.edge_address, Unset):
            edge_address = UNSET
        else:
            edge_address = self.edge_address

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "url": url,
            }
        )
        if labels is not UNSET:
            field_dict["labels"] = labels
        if tls is not UNSET:
            field_dict["tls"] = tls
        if ssh is not UNSET:
            field_dict["ssh"] = ssh
        if allowed_bind_prefixes is not UNSET:
            field_dict["allowed_bind_prefixes"] = allowed_bind_prefixes
        if edge is not UNSET:
            field_dict["edge"] = edge
        if edge_address is not UNSET:
            field_dict["edge_address"] = edge_address

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.host_create_labels import HostCreateLabels  # noqa: PLC0415
        from ..models.host_ssh import HostSSH  # noqa: PLC0415
        from ..models.host_tls import HostTLS  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        url = d.pop("url")

        _labels = d.pop("labels", UNSET)
        labels: HostCreateLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = HostCreateLabels.from_dict(_labels)

        def _parse_tls(data: object) -> HostTLS | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tls_type_0 = HostTLS.from_dict(data)

                return tls_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HostTLS | None | Unset, data)

        tls = _parse_tls(d.pop("tls", UNSET))

        def _parse_ssh(data: object) -> HostSSH | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                ssh_type_0 = HostSSH.from_dict(data)

                return ssh_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HostSSH | None | Unset, data)

        ssh = _parse_ssh(d.pop("ssh", UNSET))

        allowed_bind_prefixes = cast(list[str], d.pop("allowed_bind_prefixes", UNSET))

        def _parse_edge(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        edge = _parse_edge(d.pop("edge", UNSET))

        def _parse_edge_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        edge_address = _parse_edge_address(d.pop("edge_address", UNSET))

        host_create = cls(
            name=name,
            url=url,
            labels=labels,
            tls=tls,
            ssh=ssh,
            allowed_bind_prefixes=allowed_bind_prefixes,
            edge=edge,
            edge_address=edge_address,
        )

        return host_create
