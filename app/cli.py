"""The ``moorage`` command. Server commands (here): run the API, workers, scheduler,
migrations, or all at once, and manage tokens and secrets in the database. Client
commands (app/cli_client, added by ``register``): drive a running Moorage over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Annotated

import click
import typer

from app import cli_client
from app.config import get_settings
from app.logs import configure as configure_logging

cli = typer.Typer(help="Moorage: a desired-state control plane for Docker hosts.",
                  no_args_is_help=True, epilog=cli_client.errors.EXIT_CODES_HELP)
SERVER = "Server commands (run Moorage; token and secrets talk to its database)"


@cli.callback()
def root(
    context: Annotated[str | None, typer.Option(
        "--context", envvar="MOORAGE_CONTEXT",
        help="Client commands: the named context to use (`moorage context list`)")] = None,
) -> None:
    cli_client.Settings.context = context

CELERY_APP = "workers.celery_app:celery"


# Moorage uses none of these worker-to-worker features; mingle costs a second at every
# (re)connection, and liveness is in the database (app.services.liveness).
WORKER_WITHOUT = ("--without-mingle", "--without-gossip", "--without-heartbeat")


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", CELERY_APP, *args]


@cli.command(rich_help_panel=SERVER)
def migrate() -> None:
    """Apply database migrations (the only way the schema is made)."""
    from app.migrate import upgrade_to_head

    configure_logging(get_settings().log_level)
    upgrade_to_head()
    typer.echo("database is at the latest schema")


@cli.command(rich_help_panel=SERVER)
def api(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8000,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Worker processes [default: MOORAGE_API_WORKERS, else one per core]",
        show_default=False)] = None,
) -> None:
    """Serve the HTTP API, in one process per core by default (each checks tokens, pools
    connections and streams events on its own; all state is in the database), each with
    its own listening socket (app.serving)."""
    from app import serving

    settings = get_settings()
    configure_logging(settings.log_level)
    # Each worker process configures its logging (and so its redaction) in app.main:serve.
    serving.run(host, port, workers or settings.api_workers or available_cores(),
                proxy_headers=True, log_config=None, access_log=settings.access_log)


def available_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@cli.command(rich_help_panel=SERVER)
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes")] = 4,
) -> None:
    """Run a Celery worker that reconciles deployments."""
    os.execv(sys.executable, _celery("worker", "--loglevel", get_settings().log_level,
                                     "--concurrency", str(concurrency), *WORKER_WITHOUT))


@cli.command(rich_help_panel=SERVER)
def beat() -> None:
    """Run the periodic scheduler (resync and host heartbeats). Run exactly one."""
    settings = get_settings()
    schedule = settings.data_dir / "celerybeat-schedule"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.execv(sys.executable, _celery("beat", "--loglevel", settings.log_level,
                                     "--schedule", str(schedule)))


def _local_engine_url() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def register_local_host() -> str:
    """Register the local engine as host `local` when it answers. Returns what happened."""
    from app.db import session_scope
    from app.errors import Invalid
    from app.repositories import hosts as host_repo
    from app.schemas.hosts import HostCreate
    from app.services import hosts as host_service

    url = _local_engine_url()
    with session_scope() as session:
        if host_repo.find_by_name(session, "local") is not None:
            return "host `local` already registered"
        try:
            # `moorage dev`'s engine is the edge: endpoints answer on 127.0.0.1.
            host_service.register(session, HostCreate(name="local", url=url, edge=True,
                                                      edge_address="127.0.0.1"))
        except Invalid as exc:
            return f"no local engine registered ({exc.detail})"
    return f"registered host `local` at {url}"


token_cli = typer.Typer(help="API tokens (talks to the database directly).",
                        no_args_is_help=True, add_completion=False)
cli.add_typer(token_cli, name="token", rich_help_panel=SERVER)


@token_cli.command("create")
def token_create(
    scope: Annotated[list[str], typer.Option(
        help="read, deploy or admin (each includes the ones before it); repeatable")],
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
    expires_in_days: Annotated[float | None, typer.Option(
        help="Expire after this many days (default: never)", min=0.001)] = None,
) -> None:
    """Make a token and print it (only this once: Moorage keeps just its hash)."""
    from datetime import timedelta

    from app.db import session_scope, utcnow
    from app.errors import Invalid
    from app.schemas.tokens import TokenCreate
    from app.services import tokens as token_service

    try:
        expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        body = TokenCreate.model_validate({"name": name, "scopes": scope, "expires_at": expires_at})
    except OverflowError as exc:  # more days than a datetime holds
        raise typer.BadParameter(f"--expires-in-days: {expires_in_days} days is too far") from exc
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        with session_scope() as session:
            row, token = token_service.create(session, body.name, list(body.scopes),
                                              body.expires_at)
    except Invalid as exc:
        raise typer.BadParameter(exc.detail) from exc
    typer.echo(f"token {row.id} ({', '.join(row.scopes)}) for {row.name!r}", err=True)
    typer.echo(token)


@token_cli.command("list")
def token_list() -> None:
    """Every token (never the tokens themselves)."""
    from app.db import session_scope
    from app.repositories import tokens as token_repo

    with session_scope() as session:
        cursor = None
        while True:
            rows, cursor = token_repo.page(session, 500, cursor)
            for t in rows:
                state = "revoked" if t.revoked_at else (
                    f"expires {t.expires_at:%Y-%m-%dT%H:%M:%SZ}" if t.expires_at else "active")
                typer.echo(f"{t.id}  {','.join(t.scopes):<18} {state:<28} {t.name}")
            if cursor is None:
                break


@token_cli.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id")]) -> None:
    """Revoke a token at once."""
    import uuid

    from app.db import session_scope
    from app.errors import NotFound
    from app.services import tokens as token_service

    try:
        with session_scope() as session:
            token_service.revoke(session, uuid.UUID(token_id))
    except (ValueError, NotFound) as exc:
        raise typer.BadParameter(f"no token {token_id!r}") from exc
    typer.echo(f"revoked {token_id}")


@token_cli.command("generate")
def token_generate() -> None:
    """Print a fresh random token without storing it (e.g. for MOORAGE_BOOTSTRAP_TOKEN)."""
    from app.services import tokens as token_service

    typer.echo(token_service.generate())


secrets_cli = typer.Typer(help="Secrets at rest (talks to the database directly).",
                          no_args_is_help=True, add_completion=False)
cli.add_typer(secrets_cli, name="secrets", rich_help_panel=SERVER)


@secrets_cli.command("generate-key")
def secrets_generate_key() -> None:
    """Print a new key for MOORAGE_SECRET_KEYS (put it first; keep the old ones after it
    until `moorage secrets reseal` has run)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@secrets_cli.command("reseal")
def secrets_reseal() -> None:
    """Seal every stored secret with the first of MOORAGE_SECRET_KEYS."""
    from app.db import session_scope
    from app.services.secrets_at_rest import reseal

    with session_scope() as session:
        rows = reseal(session)
    typer.echo(f"resealed {rows} rows")


def first_admin_token() -> str | None:
    """The bootstrap token if one is configured, else a fresh admin token when there is
    no token at all (a first start). Returns a token to print, or None."""
    from app.db import session_scope
    from app.main import ensure_bootstrap_token
    from app.services import tokens as token_service

    ensure_bootstrap_token()
    with session_scope() as session:
        return token_service.first_admin_token(session)


@cli.command(rich_help_panel=SERVER)
def dev(
    port: Annotated[int, typer.Option(help="API port on 127.0.0.1")] = 8000,
    concurrency: Annotated[int, typer.Option(help="Worker processes")] = 2,
) -> None:
    """Everything in one command, with embedded defaults where nothing is configured:
    migrations, the API on 127.0.0.1, a worker with the scheduler, the local engine."""
    import uvicorn

    from app.migrate import upgrade_to_head

    settings = get_settings()
    configure_logging(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    typer.echo(f"database: {settings.effective_database_url}")
    typer.echo(f"broker:   {settings.effective_broker_url}"
               + (f" ({settings.broker_folder})" if settings.is_embedded else ""))
    # SIGTERM must unwind through `finally`, or the worker would outlive us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    upgrade_to_head()
    typer.echo(register_local_host())
    url = f"http://127.0.0.1:{port}"
    if (token := first_admin_token()) is not None:
        typer.echo(f"admin token (shown only now; `moorage token create` makes more): {token}")
        typer.echo(f"to use the CLI, run:  moorage login --url {url} --token {token}")
    else:
        typer.echo(f"to use the CLI, run:  moorage login --url {url} --token <your token>"
                   " (`moorage token create --scope admin --name me` makes one)")
    worker_proc = subprocess.Popen(
        _celery("worker", "--beat", "--loglevel", settings.log_level,
                "--concurrency", str(concurrency), *WORKER_WITHOUT,
                "--schedule", str(settings.data_dir / "celerybeat-schedule")),
        start_new_session=True,  # its own group: we stop it and its pool children together
    )
    try:
        uvicorn.run("app.main:create_app", factory=True, host="127.0.0.1", port=port,
                    log_config=None, access_log=settings.access_log)
    finally:
        _stop_group(worker_proc)


def _stop_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


cli_client.register(cli)


def main() -> None:
    # Exit 2 means "timed out" for the client commands; usage errors are 3 (click says 2).
    click.exceptions.UsageError.exit_code = int(cli_client.Exit.USAGE)
    try:
        cli()
    except cli_client.CliError as exc:
        typer.echo(exc.message, err=True)
        sys.exit(int(exc.code))
