"""One place for configuration: environment variables prefixed ``MOORAGE_``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.reconcile.host_access import AllowEntry, parse_csv

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "moorage"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOORAGE_", env_nested_delimiter="__")

    environment: str = Field("development", description="development | production")
    data_dir: Path = DEFAULT_DATA_DIR
    # Empty means the embedded default: a SQLite file and a filesystem broker in data_dir.
    database_url: str = ""
    broker_url: str = ""
    queue: str = "moorage"  # separate queues let several installations share one broker
    # The embedded filesystem broker has no way to wake a consumer: the worker looks in
    # its folder this often (kombu's default is 1 s, which every job waited half of on
    # average). A look is one listdir per queue. Redis pushes, so it ignores this.
    broker_poll_interval_s: float = Field(0.02, gt=0, le=5)

    # Reconciliation
    reconcile_lease_s: float = 20.0
    reconcile_budget_s: float = 45.0
    resync_interval_s: float = 5.0
    # A job that waited this long without a worker picking it up is taken for lost (a
    # flushed broker) and sent again; until then, further requests for it are absorbed.
    job_redeliver_s: float = 30.0
    # How often a converged deployment is checked for drift anyway. Engine events seen at
    # each heartbeat (a container died or was removed) wake it sooner; this is the net.
    drift_check_interval_s: float = 30.0
    heartbeat_interval_s: float = 5.0
    host_grace_s: float = 15.0
    # A heartbeat that takes longer than this counts as missed; keeps a tick bounded.
    heartbeat_timeout_s: float = 1.5
    orphan_interval_s: float = 30.0

    # Usage sampling (app.services.usage): every running replica's one-shot stats, all
    # hosts at once through a bounded pool (a host gets at most half of it); a host that
    # does not answer within usage_timeout_s is skipped for that tick. Samples older than
    # usage_retention_s are deleted.
    usage_interval_s: float = Field(10.0, gt=0)
    usage_timeout_s: float = Field(3.0, gt=1)  # an engine answers at its next collector tick (1 s)
    usage_pool_size: int = Field(128, ge=1)
    usage_retention_s: float = Field(600.0, gt=0)
    # A replica of a deployment without autoscale is read one tick in this many; a reading
    # is written only when it moved out of a dead-band around the last one written, or
    # that one is usage_keepalive_s old (kept within half the retention). Autoscaled
    # deployments' replicas are read and written every tick. See app.reconcile.usage.
    usage_unscaled_every: int = Field(6, ge=1)
    usage_keepalive_s: float = Field(300.0, gt=0)
    # The autoscaler (app.services.autoscaler) averages each replica's samples over this
    # window (the "over 30 s" in its reasons) and tolerates a usage within
    # autoscale_tolerance of the target (Kubernetes' HPA: 0.1).
    autoscale_metric_window_s: float = Field(30.0, gt=0)
    autoscale_tolerance: float = Field(0.1, ge=0, lt=1)

    # Retention (app.services.retention): purged by the scheduler every purge_interval_s.
    event_retention_days: float = 14.0
    events_per_deployment: int = 1000
    rollout_retention_days: float = 30.0
    delivery_retention_days: float = 7.0
    deliveries_per_webhook: int = 200
    purge_interval_s: float = 60.0
    purge_batch: int = 1000
    purge_max_batches: int = 20
    # Each worker and beat process says it lives this often, from a thread of its own;
    # one not heard from for process_stale_after_s counts as gone (GET /healthz/workers,
    # moorage_workers_alive), and a worker whose consumer has not run connected to the
    # broker for that long counts as not consuming.
    process_heartbeat_interval_s: float = Field(5.0, gt=0)
    process_stale_after_s: float = Field(15.0, gt=0)
    docker_pool_size: int = 16
    docker_timeout_s: float = 30.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    stable_after_s: float = 30.0
    ready_settle_s: float = 1.0
    # How often a pull in progress reports (an ImagePullProgress event).
    pull_progress_interval_s: float = 2.0

    # Service endpoints: the proxy Moorage runs on every edge host (app.services.edge).
    # Its image (the official one; an upgrade is a change here), its admin API's
    # address on the edge (the proxy uses the host's network, so this is the host's
    # loopback), the shared HTTP port for endpoints' hostnames, and the range listen
    # ports are chosen from when a spec names none ("LOW-HIGH").
    edge_image: str = "caddy:2"
    edge_admin_address: str = "127.0.0.1:2019"
    edge_http_port: int = Field(80, ge=1, le=65535)
    endpoint_port_range: str = Field("20000-29999", pattern=r"^\d{1,5}-\d{1,5}$")
    # A replica the proxy could not reach sits out this long (its passive health check).
    edge_fail_duration_s: float = Field(5.0, gt=0)

    # Host paths any deployment may bind on every host (app.reconcile.host_access): comma
    # separated, "PATH" (that path, read-write) or "PATH:ro" (read-only, at or below it).
    # Empty: none, and only hosts' own allowed_bind_prefixes allow any.
    allowed_bind_prefixes: str = ""

    max_body_bytes: int = 1_000_000
    # Webhook deliveries are small; a registry or CI has no reason to send more.
    max_hook_body_bytes: int = 256 * 1024
    # Deliveries one webhook takes per minute (forged ones count): past it, 429 and no
    # database write, so a flood at a hook's URL costs one indexed count per request.
    hook_deliveries_per_minute: int = 60

    # Auth. If set, the API makes this token (as admin) at startup unless a token with
    # its hash exists already (a revoked one stays revoked). For automation and tests.
    bootstrap_token: str = Field("", repr=False)
    # Fernet keys (comma-separated, newest first) that seal secrets at rest; see
    # app.sealing. Required in production; development makes one in data_dir.
    secret_keys: str = Field("", repr=False)
    log_level: str = "INFO"
    # A line per HTTP request from `moorage api` (uvicorn's access log): off when a proxy
    # in front logs requests already.
    access_log: bool = True
    # `moorage api` worker processes (uvicorn --workers); 0: one per core this process
    # may run on. Each has its own connection pool (db_pool_size).
    api_workers: int = Field(0, ge=0, le=64)
    # Postgres connections a process keeps open and may use at once: one more request
    # waits for one. No overflow: an overflow connection is opened for a request and
    # closed after it, so a burst past a small pool forked a Postgres backend per request
    # (at 500 rps of GETs, 216 answered instead of 493). The old 10 kept + 20 overflow had
    # the same limit of 30.
    db_pool_size: int = Field(30, ge=1, le=500)
    # Read-only requests' own pool (async: a connection is busy only while a statement
    # runs, so a few serve many requests at once).
    db_read_pool_size: int = Field(10, ge=1, le=500)

    @field_validator("bootstrap_token")
    @classmethod
    def _strong_bootstrap_token(cls, v: str) -> str:
        # Tokens are stored as a fast hash, which is only safe for high-entropy tokens.
        if v and (len(v) < 32 or not re.fullmatch(r"[\x21-\x7e]+", v)):
            raise ValueError("MOORAGE_BOOTSTRAP_TOKEN must be at least 32 printable characters "
                             "without spaces (e.g. from `moorage token generate`)")
        return v

    @model_validator(mode="after")
    def _stale_after_a_missed_beat(self) -> Settings:
        if self.process_stale_after_s <= self.process_heartbeat_interval_s:
            raise ValueError("MOORAGE_PROCESS_STALE_AFTER_S must be longer than "
                             "MOORAGE_PROCESS_HEARTBEAT_INTERVAL_S (3 times is usual)")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production" and not (self.database_url and self.broker_url):
            raise ValueError(
                "production needs MOORAGE_DATABASE_URL and MOORAGE_BROKER_URL; "
                "the embedded SQLite/filesystem defaults are for development only"
            )
        if self.environment == "production" and not self.secret_keys:
            raise ValueError(
                "production needs MOORAGE_SECRET_KEYS (from `moorage secrets generate-key`) "
                "to seal secrets in the database"
            )
        return self

    @field_validator("secret_keys")
    @classmethod
    def _valid_secret_keys(cls, v: str) -> str:
        import base64
        import binascii

        for key in filter(None, (k.strip() for k in v.split(","))):
            try:
                valid = len(base64.urlsafe_b64decode(key.encode())) == 32
            except (binascii.Error, ValueError):
                valid = False
            if not valid:
                raise ValueError("each of MOORAGE_SECRET_KEYS must be a Fernet key "
                                 "(32 url-safe base64 bytes; `moorage secrets generate-key`)")
        return v

    @field_validator("allowed_bind_prefixes")
    @classmethod
    def _valid_bind_prefixes(cls, v: str) -> str:
        try:
            parse_csv(v)
        except ValueError as exc:
            raise ValueError(f"MOORAGE_ALLOWED_BIND_PREFIXES: {exc}") from None
        return v

    @property
    def endpoint_ports(self) -> tuple[int, int]:
        low, high = (int(x) for x in self.endpoint_port_range.split("-"))
        return low, high

    @property
    def bind_allow(self) -> tuple[AllowEntry, ...]:
        """MOORAGE_ALLOWED_BIND_PREFIXES, parsed."""
        return parse_csv(self.allowed_bind_prefixes)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'moorage.db'}"

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        return self.data_dir / "broker"

    @property
    def is_embedded(self) -> bool:
        return not self.database_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
