"""The client commands of ``moorage``: they talk to a Moorage API over HTTP only, through
the generated client (moorage_client), never to its database."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from moorage_client.api.deployments import (
    apply_deployment,
    delete_deployment,
    get_deployment,
    get_logs,
    list_deployment_rollouts,
    list_deployments,
    list_events,
    list_replicas,
    patch_deployment,
    restart_deployment,
    rollback_deployment,
)
from moorage_client.api.hosts import delete_host, get_host, list_hosts, register_host, update_host
from moorage_client.api.stacks import apply_stack, get_stack, list_stacks
from moorage_client.models import (
    DeploymentSpec,
    HostCreate,
    HostUpdate,
    PatchDeploymentPatch,
    RollbackRequest,
)
from rich.console import Console
from rich.table import Table

from app.cli_client import config as config_file
from app.cli_client import files, render, watch
from app.cli_client.connection import Api, paged
from app.cli_client.errors import EXIT_CODES_HELP, CliError


class Output(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


class Settings:
    """Set by the root command's options (``--context``)."""

    context: str | None = None


OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table (default), json or yaml")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Wait for the rollout to end, showing its progress")]
TimeoutOpt = Annotated[float | None, typer.Option(
    "--timeout", min=0.0, help="With --wait: give up after this many seconds (exit 2)")]
def _complete(operation: Any) -> Any:
    """Shell completion of names from the API; silent when it cannot be asked."""
    def complete(incomplete: str) -> list[str]:
        try:
            page = Api.connect(Settings.context).call(operation, limit=500)
        except Exception:  # completion must never print an error into the shell
            return []
        return [item["name"] for item in page["items"] if item["name"].startswith(incomplete)]
    return complete


NameArg = Annotated[str, typer.Argument(help="The deployment's name", autocompletion=_complete(list_deployments))]


def _console(stderr: bool = False) -> Console:
    # Not a terminal (a pipe, CI logs): no colours, and lines wide enough not to wrap.
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else max(200, shutil.get_terminal_size().columns)
    return Console(stderr=stderr, width=width, highlight=False)


def _say(console: Console, text: str, style: str | None = None) -> None:
    console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def _api() -> Api:
    return Api.connect(Settings.context)


def _emit(data: Any, output: Output) -> bool:
    """Print ``data`` as JSON or YAML when asked; False for the table output."""
    if output == Output.table:
        return False
    text = render.as_json(data) if output == Output.json else render.as_yaml(data)
    print(text.rstrip("\n"))
    return True


def _table(columns: list[str], rows: list[list[str]]) -> None:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*row)
    _console().print(table)


def _now() -> datetime:
    return datetime.now(UTC)


def _finish_with_wait(api: Api, pairs: list[tuple[str, dict]], wait: bool, timeout: float | None,
                      output: Output) -> None:
    if not wait or not pairs:
        return
    code = watch.watch(api, pairs, timeout, _console(stderr=output != Output.table))
    raise typer.Exit(int(code))


def _rollout_said(name: str, rollout: dict) -> str:
    return (f"{name}: {rollout['kind']} rollout {str(rollout['id'])[:8]} to revision "
            f"{rollout['to_revision']} ({rollout['state'].replace('_', ' ')})")


# -- login and contexts ---------------------------------------------------------------

def login(
    url: Annotated[str, typer.Option(help="The API's address, e.g. http://127.0.0.1:8000")],
    token: Annotated[str, typer.Option(help="An API token (mrg_…)", prompt=True, hide_input=True)],
    context: Annotated[str | None, typer.Option(
        "--name", help="The context's name (default: the URL's host and port)")] = None,
    verify: Annotated[bool, typer.Option(help="Check the URL and token with a request first")] = True,
) -> None:
    """Save a URL and token as a named context, and use it (the file is readable by you only)."""
    url = url.rstrip("/")
    name = context or config_file.context_name_for(url)
    if verify:
        Api.to(config_file.Target(url, token, name)).call(list_deployments, limit=1)
    path = config_file.config_path()
    try:
        cfg = config_file.Config.load(path)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    cfg.contexts[name] = config_file.Context(url=url, token=token)
    cfg.current = name
    cfg.save(path)
    _say(_console(), f"logged in to {url} as context {name!r} (saved in {path})")


context_cli = typer.Typer(help="Named contexts (URL and token) in the config file.", no_args_is_help=True)


@context_cli.command("list")
def context_list() -> None:
    """Every context; * marks the current one."""
    path = config_file.config_path()
    cfg = config_file.Config.load(path)
    rows = [["*" if n == cfg.current else "", n, c.url] for n, c in sorted(cfg.contexts.items())]
    _table(["CURRENT", "NAME", "URL"], rows)


@context_cli.command("use")
def context_use(name: Annotated[str, typer.Argument(help="A context's name")]) -> None:
    """Make a context the current one."""
    path = config_file.config_path()
    cfg = config_file.Config.load(path)
    if name not in cfg.contexts:
        raise CliError(f"no context {name!r} in {path}")
    cfg.current = name
    cfg.save(path)
    _say(_console(), f"now using context {name!r} ({cfg.contexts[name].url})")


@context_cli.command("rm")
def context_rm(name: Annotated[str, typer.Argument(help="A context's name")]) -> None:
    """Forget a context (and its token)."""
    path = config_file.config_path()
    cfg = config_file.Config.load(path)
    if cfg.contexts.pop(name, None) is None:
        raise CliError(f"no context {name!r} in {path}")
    if cfg.current == name:
        cfg.current = None
    cfg.save(path)
    _say(_console(), f"removed context {name!r}")


# -- apply and diff -------------------------------------------------------------------

FileOpt = Annotated[str, typer.Option("--file", "-f", help="A deployment file, YAML or JSON (- for stdin)")]


def _read(path: str) -> list[tuple[str, dict]]:
    try:
        return files.parse_deployments(files.read_text(path), path)
    except files.FileError as exc:
        raise CliError(str(exc)) from exc


def apply(
    file: FileOpt,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    stack: Annotated[str | None, typer.Option(help="Apply a Compose file as this stack")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Apply deployment specs (each with its `name`), or with --stack a Compose file as that
    stack; --wait shows each rollout's progress (a stack's release) until it ends."""
    if stack is not None:
        _apply_stack(stack, file, wait, timeout, output)
        return
    docs = _read(file)
    api = _api()
    results, pairs = [], []
    for name, spec in docs:
        status, body = _send_spec(api, name, spec)
        results.append(body)
        rollout = body.get("current_rollout")
        if output == Output.table:
            created = status == 201
            verb = "created" if created else "configured"
            if rollout and not created and rollout["state"] in render.TERMINAL:
                verb = "unchanged"
            _say(_console(), f"deployment {name} {verb} (revision {body['revision']})"
                 + (f"; {rollout['kind']} rollout {str(rollout['id'])[:8]} {rollout['state']}" if rollout else ""))
        if rollout:
            pairs.append((name, rollout))
    _emit(results if len(results) > 1 else results[0], output)
    _finish_with_wait(api, pairs, wait, timeout, output)


def _apply_stack(name: str, file: str, wait: bool, timeout: float | None,
                 output: Output) -> None:
    try:
        text = files.read_text(file)
    except files.FileError as exc:
        raise CliError(str(exc)) from exc
    api = _api()
    status, body = api.send_raw(apply_stack, name, content=text.encode(),
                                content_type="application/yaml")
    if status >= 400:
        raise CliError(f"stack {name}: " + render.problem_text(status, body))
    release = body.get("current_rollout")
    if output == Output.table:
        verb = "created" if status == 201 else "configured"
        if release and status != 201 and release["state"] in render.TERMINAL:
            verb = "unchanged"
        _say(_console(), f"stack {name} {verb} (revision {body['revision']})"
             + (f"; release {str(release['id'])[:8]} {release['state']}" if release else ""))
    _emit(body, output)
    if wait and release:
        code = watch.watch_release(api, release, timeout, _console(stderr=output != Output.table))
        raise typer.Exit(int(code))


def _send_spec(api: Api, name: str, spec: dict, **kwargs: Any) -> tuple[int, Any]:
    try:
        status, body = api.send_as_written(apply_deployment, name, body=spec, model=DeploymentSpec, **kwargs)
    except (KeyError, TypeError, ValueError) as exc:  # the model could not read it at all
        raise CliError(f"{name}: not a deployment spec ({type(exc).__name__}: {exc})") from exc
    if status >= 400:
        raise CliError(f"{name}: " + render.problem_text(status, body))
    return status, body


def diff(file: FileOpt, output: OutputOpt = Output.table) -> None:
    """What applying the file would change (a dry run: nothing is changed)."""
    docs = _read(file)
    api = _api()
    out = []
    for name, spec in docs:
        _, result = _send_spec(api, name, spec, dry_run=True)
        out.append({"name": name, **result})
        if output == Output.table:
            console = _console()
            for style, text in render.dry_run_lines(name, result, file):
                _say(console, text, {"-": "red", "+": "green", "#": "bold"}.get(style))
    _emit(out if len(out) > 1 else out[0], output)


# -- rollouts -------------------------------------------------------------------------

rollout_cli = typer.Typer(help="Rollouts: one per change of desired state.", no_args_is_help=True)


@rollout_cli.command("status")
def rollout_status(name: NameArg, timeout: TimeoutOpt = None) -> None:
    """Wait for the deployment's current rollout to end, showing its progress."""
    api = _api()
    d = api.call(get_deployment, name)
    if not d.get("current_rollout"):
        _say(_console(), f"{name}: no rollout")
        return
    raise typer.Exit(int(watch.watch(api, [(name, d["current_rollout"])], timeout, _console())))


@rollout_cli.command("history")
def rollout_history(name: NameArg, output: OutputOpt = Output.table) -> None:
    """The deployment's rollouts, newest first."""
    items = paged(_api(), list_deployment_rollouts, name)
    if not _emit(items, output):
        _table(render.ROLLOUT_COLUMNS, render.rollout_rows(items, _now()))


# -- get and describe -----------------------------------------------------------------

class Kind(StrEnum):
    deployments = "deployments"
    deployment = "deployment"
    hosts = "hosts"
    host = "host"
    rollouts = "rollouts"
    rollout = "rollout"
    stacks = "stacks"
    stack = "stack"


def get(
    kind: Annotated[Kind, typer.Argument(help="deployments, hosts, rollouts or stacks")],
    name: Annotated[str | None, typer.Argument(
        help="One by name (for rollouts: that deployment's history)")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """List deployments, hosts, stacks or rollouts (without a name: each deployment's current one)."""
    api = _api()
    now = _now()
    if kind in (Kind.stacks, Kind.stack):
        items = [api.call(get_stack, name)] if name else paged(api, list_stacks)
        if not _emit(items[0] if name else items, output):
            _table(render.STACK_COLUMNS, render.stack_rows(items, now))
    elif kind in (Kind.deployments, Kind.deployment):
        items = [api.call(get_deployment, name)] if name else paged(api, list_deployments)
        data: Any = items[0] if name else items
        if not _emit(data, output):
            _table(render.DEPLOYMENT_COLUMNS, render.deployment_rows(items, now))
    elif kind in (Kind.hosts, Kind.host):
        items = [api.call(get_host, name)] if name else paged(api, list_hosts)
        if not _emit(items[0] if name else items, output):
            _table(render.HOST_COLUMNS, render.host_rows(items, now))
    else:
        if name:
            items = paged(api, list_deployment_rollouts, name)
        else:
            items = [d["current_rollout"] for d in paged(api, list_deployments) if d.get("current_rollout")]
        if not _emit(items, output):
            _table(render.ROLLOUT_COLUMNS, render.rollout_rows(items, now))


class DescribeKind(StrEnum):
    deployment = "deployment"
    host = "host"
    stack = "stack"


RECENT_EVENTS = 15


def describe(
    kind: Annotated[DescribeKind, typer.Argument(help="deployment, host or stack")],
    name: Annotated[str, typer.Argument(help="Its name")],
    output: OutputOpt = Output.table,
) -> None:
    """One deployment (spec, status, replicas per host with health and addresses, recent
    events), host, or stack (its status, release and services)."""
    api = _api()
    now = _now()
    if kind == DescribeKind.stack:
        stack = api.call(get_stack, name)
        if _emit(stack, output):
            return
        _fields(render.stack_summary(stack, now))
        _section("Services")
        _table(render.SERVICE_COLUMNS, render.service_rows(stack["services"]))
        return
    if kind == DescribeKind.host:
        host = api.call(get_host, name)
        on_host = []
        for d in paged(api, list_deployments):
            on_host += [{**r, "deployment": d["name"]} for r in paged(api, list_replicas, d["name"])
                        if r["host"] == name]
        if _emit({"host": host, "replicas": on_host}, output):
            return
        _fields(render.host_summary(host, now))
        _section("Replicas")
        rows = [[r["deployment"], *row] for r, row in
                zip(on_host, render.replica_rows(on_host, {name: host.get("url", "")}), strict=True)]
        _table(["DEPLOYMENT", *render.REPLICA_COLUMNS], rows) if rows else _say(_console(), "  none")
        return
    d = api.call(get_deployment, name)
    replicas = paged(api, list_replicas, name)
    events = paged(api, list_events, name)[-RECENT_EVENTS:]
    host_urls = {h["name"]: h.get("url", "") for h in paged(api, list_hosts)} if replicas else {}
    if _emit({"deployment": d, "replicas": replicas, "events": events}, output):
        return
    _fields(render.deployment_summary(d, now))
    _section("Spec")
    _say(_console(), render.as_yaml(d["spec"]).rstrip("\n"))
    _section("Replicas")
    if replicas:
        _table(render.REPLICA_COLUMNS, render.replica_rows(replicas, host_urls))
    else:
        _say(_console(), "  none")
    _section(f"Events (last {RECENT_EVENTS})")
    if events:
        _table(render.EVENT_COLUMNS, render.event_rows(events))
    else:
        _say(_console(), "  none")


def _fields(rows: list[tuple[str, str]]) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for k, v in rows:
        table.add_row(f"{k}:", v)
    _console().print(table)


def _section(title: str) -> None:
    _say(_console(), f"\n{title}:", "bold")


# -- changes ---------------------------------------------------------------------------

def scale(
    name: NameArg,
    replicas: Annotated[int, typer.Argument(min=0, max=1000, help="How many replicas")],
    wait: WaitOpt = False, timeout: TimeoutOpt = None, output: OutputOpt = Output.table,
) -> None:
    """Change the replica count (makes no revision)."""
    api = _api()
    d = api.call(patch_deployment, name, body=PatchDeploymentPatch.from_dict({"replicas": replicas}))
    if not _emit(d, output):
        _say(_console(), f"{name} scaled to {replicas}")
    rollout = d.get("current_rollout")
    _finish_with_wait(api, [(name, rollout)] if rollout else [], wait, timeout, output)


def rollback(
    name: NameArg,
    to: Annotated[int | None, typer.Option("--to", min=1, help="The revision (default: the previous one)")] = None,
    wait: WaitOpt = False, timeout: TimeoutOpt = None, output: OutputOpt = Output.table,
) -> None:
    """Bring back an earlier revision's spec, as a new revision."""
    api = _api()
    # No body (JSON null) means the previous revision.
    body = RollbackRequest(revision=to) if to is not None else None
    rollout = api.call(rollback_deployment, name, body=body, idempotency_key=str(uuid.uuid4()))
    if not _emit(rollout, output):
        _say(_console(), _rollout_said(name, rollout))
    _finish_with_wait(api, [(name, rollout)], wait, timeout, output)


def restart(name: NameArg, wait: WaitOpt = False, timeout: TimeoutOpt = None,
            output: OutputOpt = Output.table) -> None:
    """Replace every replica with a fresh container, by the update strategy."""
    api = _api()
    rollout = api.call(restart_deployment, name, idempotency_key=str(uuid.uuid4()))
    if not _emit(rollout, output):
        _say(_console(), _rollout_said(name, rollout))
    _finish_with_wait(api, [(name, rollout)], wait, timeout, output)


def delete(name: NameArg, wait: WaitOpt = False, timeout: TimeoutOpt = None,
           output: OutputOpt = Output.table) -> None:
    """Remove a deployment: every container on every host, then the deployment."""
    api = _api()
    rollout = api.call(delete_deployment, name)
    if not _emit(rollout, output):
        _say(_console(), _rollout_said(name, rollout))
    _finish_with_wait(api, [(name, rollout)], wait, timeout, output)


# -- logs and events --------------------------------------------------------------------

def logs(
    name: NameArg,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines")] = False,
    since: Annotated[str | None, typer.Option(help="Only lines since: 10m, 2h, or an RFC 3339 time")] = None,
    replica: Annotated[str | None, typer.Option(help="Only this replica: its slot or container name")] = None,
    tail: Annotated[int, typer.Option(min=1, max=10_000, help="Lines per replica to start with")] = 100,
    timestamps: Annotated[bool, typer.Option("--timestamps", "-t", help="Show each line's time")] = False,
    output: OutputOpt = Output.table,
) -> None:
    """Container output of every replica, each line prefixed by its replica."""
    api = _api()
    kwargs: dict[str, Any] = {"tail": tail}
    if since:
        try:
            kwargs["since"] = render.parse_since(since, _now())
        except ValueError as exc:
            raise CliError(f"--since: {exc}") from exc
    if replica:
        kwargs["replica"] = replica
    if not follow:
        lines = api.call(get_logs, name, **kwargs)
        if not _emit(lines, output):
            for line in lines:
                print(render.log_line(line, timestamps))
        return
    with api.reaching(), api.stream(get_logs, name, follow=True, read_timeout=None, **kwargs) as response:
        api.check(response)
        for raw in response.iter_lines():
            if not raw.strip():
                continue  # keep-alive
            line = json.loads(raw)
            print(json.dumps(line) if output != Output.table else render.log_line(line, timestamps),
                  flush=True)


def events(
    name: NameArg,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new events")] = False,
    output: OutputOpt = Output.table,
) -> None:
    """The deployment's events, oldest first."""
    api = _api()
    if not follow:
        items = paged(api, list_events, name)
        if not _emit(items, output):
            _table(render.EVENT_COLUMNS, render.event_rows(items))
        return
    from httpx_sse import EventSource

    with api.reaching(), api.stream(list_events, name, accept="text/event-stream", limit=500,
                                    read_timeout=None) as response:
        api.check(response)
        for sse in EventSource(response).iter_sse():
            event = json.loads(sse.data)
            print(json.dumps(event) if output != Output.table else render.event_line(event), flush=True)


# -- hosts ---------------------------------------------------------------------------

hosts_cli = typer.Typer(help="Docker engines Moorage drives (admin).", no_args_is_help=True)
HostArg = Annotated[str, typer.Argument(help="The host's name", autocompletion=_complete(list_hosts))]


def _file_text(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc


@hosts_cli.command("add")
def hosts_add(
    name: HostArg,
    url: Annotated[str, typer.Option(help="unix:///…/docker.sock, tcp://host:2376 or ssh://user@host")],
    label: Annotated[list[str] | None, typer.Option(help="key=value; repeatable")] = None,
    allow_bind: Annotated[list[str] | None, typer.Option(help="A host path deployments may bind; repeatable")] = None,
    tls_ca: Annotated[Path | None, typer.Option(help="CA certificate (PEM file)")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="Client certificate (PEM file)")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Client key (PEM file)")] = None,
    ssh_key: Annotated[Path | None, typer.Option(help="ssh private key file (for ssh://)")] = None,
    known_hosts: Annotated[Path | None, typer.Option(help="known_hosts file (for ssh://)")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Register a Docker engine (it must answer within 5 s)."""
    labels = {}
    for item in label or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--label {item!r}: expected key=value")
        labels[key] = value
    body: dict[str, Any] = {"name": name, "url": url, "labels": labels}
    if allow_bind:
        body["allowed_bind_prefixes"] = allow_bind
    tls = {k: v for k, v in (("ca_cert", _file_text(tls_ca)), ("client_cert", _file_text(tls_cert)),
                             ("client_key", _file_text(tls_key))) if v is not None}
    if tls:
        body["tls"] = tls
    if ssh_key or known_hosts:
        body["ssh"] = {"private_key": _file_text(ssh_key) or "", "known_hosts": _file_text(known_hosts) or ""}
    api = _api()
    host = api.call(register_host, body=HostCreate.from_dict(body), idempotency_key=str(uuid.uuid4()))
    if not _emit(host, output):
        _say(_console(), f"host {name} registered ({host.get('state')}, engine {host.get('engine_version') or '?'})")


def _patch_host(name: str, patch: dict, said: str, output: Output) -> None:
    host = _api().call(update_host, name, body=HostUpdate.from_dict(patch))
    if not _emit(host, output):
        _say(_console(), said)


@hosts_cli.command("drain")
def hosts_drain(name: HostArg, output: OutputOpt = Output.table) -> None:
    """Stop placing replicas on the host and move its replicas away (replacement first)."""
    _patch_host(name, {"schedulable": False}, f"host {name} draining: its replicas move elsewhere", output)


@hosts_cli.command("uncordon")
def hosts_uncordon(name: HostArg, output: OutputOpt = Output.table) -> None:
    """Let replicas be placed on the host again."""
    _patch_host(name, {"schedulable": True}, f"host {name} schedulable", output)


@hosts_cli.command("rm")
def hosts_rm(name: HostArg) -> None:
    """Forget a host (it must run no replicas: drain it first)."""
    _api().call(delete_host, name)
    _say(_console(), f"host {name} removed")


PANEL = "Client commands (talk to the API over HTTP: MOORAGE_URL, MOORAGE_TOKEN or `moorage login`)"


def register(cli: typer.Typer) -> None:
    """Add the client commands to the root ``moorage`` command, in a help panel of their own."""
    for command in (login, apply, diff, get, describe, scale, rollback, restart, delete, logs, events):
        cli.command(epilog=EXIT_CODES_HELP, rich_help_panel=PANEL)(command)
    for sub, name in ((rollout_cli, "rollout"), (hosts_cli, "hosts"), (context_cli, "context")):
        cli.add_typer(sub, name=name, epilog=EXIT_CODES_HELP, rich_help_panel=PANEL)
