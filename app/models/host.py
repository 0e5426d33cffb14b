from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.sealing import SealedText


class Host(Base):
    __tablename__ = "host"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    url: Mapped[str] = mapped_column(String(1024))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    schedulable: Mapped[bool] = mapped_column(Boolean, default=True)
    engine_version: Mapped[str | None] = mapped_column(String(64))
    cpus: Mapped[float | None] = mapped_column(Float)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    containers: Mapped[int] = mapped_column(Integer, default=0)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # TLS client material for tcp:// engines. Write-only: never returned by the API.
    tls_ca_cert: Mapped[str | None] = mapped_column(Text)
    tls_client_cert: Mapped[str | None] = mapped_column(Text)
    tls_client_key: Mapped[str | None] = mapped_column(SealedText)
    # The private key and known_hosts lines for ssh:// engines. Write-only, too.
    ssh_private_key: Mapped[str | None] = mapped_column(SealedText)
    ssh_known_hosts: Mapped[str | None] = mapped_column(Text)
    # Since when the host has failed heartbeats (None while it answers); drives lost-host
    # rescheduling, with hysteresis so a flapping host causes no churn.
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a heartbeat declared it lost (unreachable past the grace period): from then on
    # its replicas move. Cleared when it answers again.
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Host paths deployments may bind here, beside the global MOORAGE_ALLOWED_BIND_PREFIXES:
    # entries as app.reconcile.host_access parses them ("/srv/app", "/srv/config:ro").
    allowed_bind_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Where the engine keeps its data (its `DockerRootDir`): never bound by a broad entry.
    engine_root_dir: Mapped[str | None] = mapped_column(Text)
    # An edge runs Moorage's proxy (Caddy, app.services.edge) serving every endpoint;
    # ``edge_address`` is where it listens and what endpoint URLs name (None: the host
    # part of ``url``, 127.0.0.1 for a unix:// engine).
    edge: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    edge_address: Mapped[str | None] = mapped_column(String(255))
    # One writer of an edge's proxy config at a time (a lease, like a deployment's).
    edge_lease_owner: Mapped[str | None] = mapped_column(String(128))
    edge_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the proxy container was last given: {"container_id", "started_at", "config_hash",
    # "image"}. A proxy whose container or start time differs has lost it: rebuilt.
    edge_applied: Mapped[dict | None] = mapped_column(JSON)
    # Why its proxy could not be given the config the database says, at the last try (None:
    # it has it). A stale proxy sends requests to replicas that left: that must be seen.
    edge_error: Mapped[str | None] = mapped_column(Text)
    resource_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
