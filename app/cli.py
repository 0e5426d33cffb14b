"""The ``moorage`` command: run the API, workers, scheduler, migrations, or all at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Annotated

import typer

from app.config import get_settings
from app.logs import configure as configure_logging

cli = typer.Typer(help="Moorage: a desired-state control plane for Docker hosts.",
                  no_args_is_help=True, add_completion=False)

CELERY_APP = "workers.celery_app:celery"


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", CELERY_APP, *args]


@cli.command()
def migrate() -> None:
    """Apply database migrations (the only way the schema is made)."""
    from app.migrate import upgrade_to_head

    configure_logging(get_settings().log_level)
    upgrade_to_head()
    typer.echo("database is at the latest schema")


@cli.command()
def api(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8000,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    configure_logging(get_settings().log_level)
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port,
                proxy_headers=True, log_config=None)


@cli.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes")] = 4,
) -> None:
    """Run a Celery worker that reconciles deployments."""
    os.execv(sys.executable, _celery("worker", "--loglevel", get_settings().log_level,
                                     "--concurrency", str(concurrency)))


@cli.command()
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
            host_service.register(session, HostCreate(name="local", url=url))
        except Invalid as exc:
            return f"no local engine registered ({exc.detail})"
    return f"registered host `local` at {url}"


@cli.command()
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
    worker_proc = subprocess.Popen(
        _celery("worker", "--beat", "--loglevel", settings.log_level,
                "--concurrency", str(concurrency),
                "--schedule", str(settings.data_dir / "celerybeat-schedule")),
        start_new_session=True,  # its own group: we stop it and its pool children together
    )
    try:
        uvicorn.run("app.main:create_app", factory=True, host="127.0.0.1", port=port,
                    log_config=None)
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


def main() -> None:
    cli()
