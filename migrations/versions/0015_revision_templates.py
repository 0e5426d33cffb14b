"""a typed, versioned template per revision; replicas are the deployment's, not a revision's

Each revision gets ``template``: what the workers run (app.reconcile.template, schema
version 1), converted here from the public spec it stored. Workers read only that, never
the API's request model, so renaming an API field cannot make an old revision
unloadable. The desired replica count moves to the deployment row (from its current
revision's spec) and out of every revision's spec: scaling makes no revision.

The conversion is a frozen copy, on purpose: this file must convert specs as they were
stored up to 0013 whatever app.reconcile.template and app.schemas look like later. It
is lenient: a spec from an older Moorage that lacks a field gets the API's default.

Downgrading puts each deployment's count back into its revisions' specs (where the old
code reads it) and drops the column.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:00:00
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH = 500

_deployment = sa.table(
    "deployment",
    sa.column("id", sa.Uuid()),
    sa.column("revision", sa.Integer()),
    sa.column("replicas", sa.Integer()),
)
_revision = sa.table(
    "revision",
    sa.column("id", sa.Integer()),
    sa.column("deployment_id", sa.Uuid()),
    sa.column("number", sa.Integer()),
    sa.column("spec", sa.JSON()),
    sa.column("template", sa.JSON()),
)


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _opt(cast, value: Any) -> Any:
    return None if value is None else cast(value)


def _argv(value: Any) -> list[str] | None:
    return None if value is None else [str(a) for a in value]


def _health_v1(check: Any) -> dict | None:
    if not isinstance(check, dict):
        return None
    if isinstance(check.get("http"), dict):
        http = check["http"]
        probe: dict[str, Any] = {"http": {"port": int(http["port"]),
                                          "path": str(http.get("path") or "/")}}
    elif isinstance(check.get("tcp"), dict):
        probe = {"tcp": {"port": int(check["tcp"]["port"])}}
    elif check.get("exec"):
        probe = {"exec": [str(a) for a in check["exec"]]}
    else:
        return None
    return {**probe,
            "interval_s": float(check.get("interval_s", 5.0)),
            "timeout_s": float(check.get("timeout_s", 2.0)),
            "retries": int(check.get("retries", 3)),
            "start_period_s": float(check.get("start_period_s", 0.0))}


def template_v1(spec: dict[str, Any]) -> dict[str, Any]:
    """A v1 template (app.reconcile.template.Template.to_dict() as of 0015) from a public
    spec as Moorage stored it up to 0013; missing fields take the API's defaults."""
    resources = _obj(spec.get("resources"))
    strategy = _obj(spec.get("update_strategy"))
    placement = _obj(spec.get("placement"))
    return {
        "schema_version": 1,
        "container": {
            "image": spec["image"],
            "command": _argv(spec.get("command")),
            "entrypoint": _argv(spec.get("entrypoint")),
            "env": {str(k): str(v) for k, v in sorted(_obj(spec.get("env")).items())},
            "ports": [{"container_port": int(p["container_port"]),
                       "host_port": _opt(int, p.get("host_port")),
                       "protocol": str(p.get("protocol") or "tcp"),
                       "host_ip": str(p.get("host_ip") or "0.0.0.0")}
                      for p in spec.get("ports") or []],
            # As stored: a path from before paths were checked stays what it was (the
            # workers refuse to bind it; it is not for a migration to guess a fix).
            "volumes": [{"source": str(v.get("source", "")), "target": str(v.get("target", "")),
                         "read_only": bool(v.get("read_only"))}
                        for v in spec.get("volumes") or []],
            "labels": {str(k): str(v) for k, v in sorted(_obj(spec.get("labels")).items())},
            "resources": {"cpus": _opt(float, resources.get("cpus")),
                          "memory_mb": _opt(int, resources.get("memory_mb"))},
        },
        "health_check": _health_v1(spec.get("health_check")),
        "restart_policy": str(spec.get("restart_policy") or "always"),
        "update_strategy": {
            "max_surge": int(strategy.get("max_surge", 1)),
            "max_unavailable": int(strategy.get("max_unavailable", 0)),
            "min_ready_s": float(strategy.get("min_ready_s", 0.0)),
            "progress_deadline_s": float(strategy.get("progress_deadline_s", 600.0)),
            "auto_rollback": bool(strategy.get("auto_rollback", True)),
        },
        "placement": {"constraints": [str(c) for c in placement.get("constraints") or []],
                      "max_per_host": _opt(int, placement.get("max_per_host"))},
        "registry_username": _obj(spec.get("registry_auth")).get("username"),
    }


def _revisions(conn, columns):
    """Every revision, in batches by id (a long history need not fit in memory)."""
    last = 0
    while True:
        rows = conn.execute(
            sa.select(_revision.c.id, *columns).where(_revision.c.id > last)
            .order_by(_revision.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("revision") as batch:
        batch.add_column(sa.Column("template", sa.JSON(), nullable=True))
    conn = op.get_bind()

    # The desired count: the current revision's, now the deployment's alone.
    current = conn.execute(
        sa.select(_deployment.c.id, _revision.c.spec)
        .join(_revision, (_revision.c.deployment_id == _deployment.c.id)
              & (_revision.c.number == _deployment.c.revision))
    ).all()
    for deployment_id, spec in current:
        replicas = _obj(spec).get("replicas", 1)
        conn.execute(_deployment.update().where(_deployment.c.id == deployment_id)
                     .values(replicas=int(replicas)))

    for revision_id, spec in _revisions(conn, [_revision.c.spec]):
        spec = dict(spec)
        template = template_v1(spec)
        spec.pop("replicas", None)
        conn.execute(_revision.update().where(_revision.c.id == revision_id)
                     .values(spec=spec, template=template))

    with op.batch_alter_table("revision") as batch:
        batch.alter_column("template", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    conn = op.get_bind()
    counts = dict(conn.execute(sa.select(_deployment.c.id, _deployment.c.replicas)).all())
    for revision_id, deployment_id, spec in _revisions(
            conn, [_revision.c.deployment_id, _revision.c.spec]):
        spec = {**spec, "replicas": counts.get(deployment_id, 1)}
        conn.execute(_revision.update().where(_revision.c.id == revision_id).values(spec=spec))
    with op.batch_alter_table("revision") as batch:
        batch.drop_column("template")
