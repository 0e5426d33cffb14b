from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

from app.reconcile import host_access
from app.schemas.common import DNS_LABEL, LABEL_KEY, Strict

HostLabels = Annotated[
    dict[Annotated[str, Field(pattern=LABEL_KEY)],
         Annotated[str, Field(max_length=256, pattern=r"^[^\x00]*$")]],
    Field(max_length=64),
]


def _entry(v: str) -> str:
    """An entry in its canonical form (``//srv/./web/`` is ``/srv/web``)."""
    return str(host_access.AllowEntry.parse(v))


BindAllowList = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_entry)]],
    AfterValidator(lambda v: list(dict.fromkeys(v))),  # each once, in the order given
    Field(
        max_length=256,
        description=(
            "Admin only. Host paths deployments may bind on this host, beside the global "
            "`MOORAGE_ALLOWED_BIND_PREFIXES` (a deployment whose host paths only some hosts "
            "allow is placed on those). `\"/srv/app\"` allows binding that very path, "
            "read-write or read-only (nothing below a read-write entry is bound: a "
            "container could plant a symlink there); `\"/srv/config:ro\"` allows "
            "read-only binds at or below it. Escalation paths (the Docker socket, /proc, "
            "/sys, /dev, /etc, /run, /var/lib/docker, this engine's socket and data root, "
            "...) are unlocked only by an entry at or below them, never by a broader one. "
            "Paths are normalised; `..` is refused. Empty (the default): none."
        ),
        examples=[["/srv/web", "/srv/config:ro", "/var/run/docker.sock"]],
    ),
]


Pem = Annotated[str, Field(min_length=1, max_length=65_536, pattern=r"-----BEGIN [A-Z0-9 ]+-----")]


class HostTLS(Strict):
    """Client TLS for a tcp:// engine. Write-only: stored with the host, never returned."""

    ca_cert: Pem | None = None
    client_cert: Pem | None = None
    client_key: Pem | None = None


class HostSSH(Strict):
    """How to log in to an ssh:// host. Write-only: stored with the host, never returned."""

    private_key: Annotated[str, Field(
        min_length=1, max_length=16_384,
        description="The private key, OpenSSH or PEM text, without a passphrase",
        examples=["-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n"])]
    known_hosts: Annotated[str, Field(
        min_length=1, max_length=65_536,
        description="known_hosts lines for the host; any other host key is refused",
        examples=["[edge-1.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA..."])]

    @field_validator("private_key", "known_hosts")
    @classmethod
    def _text(cls, v: str, info: ValidationInfo) -> str:
        if "\x00" in v:
            raise ValueError(f"ssh.{info.field_name} must not contain NUL characters")
        if not v.strip():
            raise ValueError(f"ssh.{info.field_name} must not be blank")
        return v

    @field_validator("private_key")
    @classmethod
    def _key(cls, v: str) -> str:
        if "-----BEGIN " not in v or " PRIVATE KEY-----" not in v:
            raise ValueError("ssh.private_key must be a private key in OpenSSH or PEM text "
                             "(-----BEGIN OPENSSH PRIVATE KEY----- ...)")
        return v


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = rf"({_LABEL}\.)*{_LABEL}"


def _edge_address(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ipaddress.ip_address(v)
    except ValueError:
        if not re.fullmatch(_DNS_NAME, v):
            raise ValueError("edge_address must be an IP address or a DNS name") from None
    return v


EdgeAddress = Annotated[str | None, Field(
    max_length=253, examples=["127.0.0.1", "203.0.113.7"],
    description="Where this edge's proxy listens and what endpoint URLs name (also where "
                "other edges reach replicas published here). null: the host part of `url` "
                "(127.0.0.1 for unix://). `0.0.0.0` listens on every address."),
    AfterValidator(_edge_address)]
EDGE_DESCRIPTION = (
    "An edge runs Moorage's proxy (Caddy) and serves every deployment's endpoint. "
    "Default when registering: true for the first host (with one host, it is the edge), "
    "false for the others.")


class HostCreate(Strict):
    name: Annotated[str, Field(pattern=DNS_LABEL, examples=["edge-1"])]
    url: Annotated[str, Field(max_length=1024, examples=["unix:///var/run/docker.sock"])]
    labels: HostLabels = {}
    tls: HostTLS | None = None
    ssh: HostSSH | None = None
    allowed_bind_prefixes: BindAllowList = []
    edge: Annotated[bool | None, Field(description=EDGE_DESCRIPTION)] = None
    edge_address: EdgeAddress = None

    @field_validator("ssh")
    @classmethod
    def _ssh(cls, v: HostSSH | None, info: ValidationInfo) -> HostSSH | None:
        url = info.data.get("url")  # absent when the url itself was invalid
        if v is None or url is None:
            return v
        if not url.startswith("ssh://"):
            raise ValueError("ssh is only for ssh://user@host[:port] urls")
        if not urlsplit(url).username:
            raise ValueError("with ssh, the url names the user to log in as: ssh://user@host")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("unix:///", "tcp://", "ssh://")):
            raise ValueError("url must start with unix:///, tcp:// or ssh://")
        if any(ord(ch) < 0x20 or ch == "\x7f" for ch in v):
            raise ValueError("url must not contain control characters")
        if v.startswith("unix://"):
            if v == "unix:///":
                raise ValueError("url needs a socket path, e.g. unix:///var/run/docker.sock")
            return v
        # The Docker client would fail on these with errors that say nothing about the url.
        try:
            parts = urlsplit(v)
            parts.port  # noqa: B018  (raises ValueError unless a number in 0..65535)
        except ValueError as exc:
            raise ValueError(f"url is not a valid tcp:// or ssh:// address: {exc}") from None
        if not parts.hostname:
            raise ValueError("url needs a host, e.g. tcp://10.0.0.5:2376 or ssh://user@host")
        if parts.port == 0:
            raise ValueError("url port must be 1..65535")
        if v.startswith("ssh://") and (parts.password is not None or parts.path not in ("", "/")
                                       or parts.query or parts.fragment):
            raise ValueError("an ssh url is ssh://[user@]host[:port], with no password or path")
        return v


class HostUpdate(Strict):
    labels: HostLabels | None = None
    schedulable: bool | None = None
    allowed_bind_prefixes: BindAllowList | None = Field(
        None, description="Replaces the host's list (`[]`: none). Replicas binding a path "
                          "it no longer allows move elsewhere, like a drain.")
    edge: Annotated[bool | None, Field(description="Make it an edge (its proxy is started) "
                                                   "or not (its proxy is removed)")] = None
    edge_address: EdgeAddress = None


class HostRead(BaseModel):
    name: str
    url: str
    labels: dict[str, str]
    state: Literal["pending", "ready", "unreachable", "draining"]
    schedulable: bool
    engine_version: str | None
    cpus: float | None
    memory_bytes: int | None
    containers: int
    last_heartbeat_at: datetime | None
    last_error: str | None
    allowed_bind_prefixes: list[str] = Field(
        [], description="Host paths deployments may bind here (set by an admin), beside the "
                        "global MOORAGE_ALLOWED_BIND_PREFIXES")
    edge: bool = Field(False, description=EDGE_DESCRIPTION)
    edge_address: str | None = Field(None, description="Where its proxy listens (null: the "
                                                       "host part of `url`)")
    edge_error: str | None = Field(None, description="Why its proxy could not be given the "
                                   "config of the endpoints at the last try (null: it has "
                                   "it). Until then it may send requests to replicas that left.")
    resource_version: int
    created_at: datetime
