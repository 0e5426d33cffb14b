"""Pure formatting for the client commands: problems, tables, diffs, progress lines.

Everything here takes the API's JSON (dicts, as docs/API.md shows them) and returns
text, so it is tested without a server.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import yaml

Row = list[str]
TERMINAL = ("succeeded", "failed", "rolled_back", "superseded")


# -- errors ---------------------------------------------------------------------------

def problem_text(status: int, body: Any) -> str:
    """An API problem (RFC 9457) as its title, detail and each field error."""
    if not isinstance(body, dict):
        text = str(body).strip()
        return f"HTTP {status}" + (f": {text[:500]}" if text else "")
    lines = [f"{body.get('title') or 'Error'} (HTTP {body.get('status') or status})"]
    if body.get("detail"):
        lines[0] += f": {body['detail']}"
    for err in body.get("errors") or []:
        loc = ".".join(str(part) for part in err.get("loc") or [])
        lines.append(f"  {loc or '(request)'}: {err.get('msg', '')}")
    return "\n".join(lines)


# -- times ----------------------------------------------------------------------------

def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def age(value: str | None, now: datetime) -> str:
    """How long ago, kubectl style: 42s, 5m, 3h, 2d."""
    then = parse_time(value)
    if then is None:
        return "-"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(value: str, now: datetime) -> datetime:
    """``--since``: a duration back from now (``90s``, ``10m``, ``2h``, ``1d``) or an
    RFC 3339 time (UTC when it names no zone)."""
    if m := _DURATION.match(value.strip()):
        return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is neither a duration (10m, 2h) nor an RFC 3339 time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# -- output formats -------------------------------------------------------------------

def as_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def as_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# -- tables ---------------------------------------------------------------------------

DEPLOYMENT_COLUMNS = ["NAME", "PHASE", "READY", "UP-TO-DATE", "IMAGE", "REVISION", "ROLLOUT", "AGE"]


def deployment_rows(items: list[dict], now: datetime) -> list[Row]:
    rows = []
    for d in items:
        status, rollout = d.get("status") or {}, d.get("current_rollout") or {}
        rows.append([
            d["name"], status.get("phase", "-"),
            f"{status.get('ready_replicas', 0)}/{d['spec'].get('replicas', 0)}",
            str(status.get("updated_replicas", 0)), d["spec"].get("image", "-"),
            str(d.get("revision", "-")),
            f"{rollout['kind']} {rollout['state']}" if rollout else "-",
            age(d.get("created_at"), now),
        ])
    return rows


HOST_COLUMNS = ["NAME", "STATE", "SCHEDULABLE", "ENGINE", "CPUS", "MEMORY", "CONTAINERS", "HEARTBEAT", "URL"]


def host_rows(items: list[dict], now: datetime) -> list[Row]:
    return [[
        h["name"], h.get("state", "-"), "yes" if h.get("schedulable") else "no",
        h.get("engine_version") or "-", _number(h.get("cpus")), _bytes(h.get("memory_bytes")),
        _number(h.get("containers")),
        age(h.get("last_heartbeat_at"), now) + (" ago" if h.get("last_heartbeat_at") else ""),
        h.get("url", "-"),
    ] for h in items]


ROLLOUT_COLUMNS = ["ID", "DEPLOYMENT", "KIND", "REVISION", "STATE", "UPDATED", "READY", "AGE", "MESSAGE"]


def rollout_rows(items: list[dict], now: datetime) -> list[Row]:
    rows = []
    for r in items:
        p = r.get("progress") or {}
        revision = (f"{r['from_revision']}→{r['to_revision']}" if r.get("from_revision")
                    else str(r.get("to_revision", "-")))
        rows.append([
            str(r["id"])[:8], r.get("deployment", "-"), r["kind"], revision, r["state"],
            f"{p.get('updated', 0)}/{p.get('desired', 0)}", f"{p.get('ready', 0)}/{p.get('desired', 0)}",
            age(r.get("created_at"), now), (r.get("message") or "")[:80],
        ])
    return rows


REPLICA_COLUMNS = ["SLOT", "HOST", "STATE", "HEALTH", "REVISION", "RESTARTS", "ADDRESSES", "LAST PROBE"]


def replica_rows(items: list[dict], host_urls: dict[str, str]) -> list[Row]:
    return [[
        str(r["slot"]), r["host"], r["state"], r["health"], str(r["revision"]),
        str(r.get("restart_count", 0)),
        " ".join(replica_addresses(r, host_urls.get(r["host"]))) or "-",
        _one_line(r.get("last_probe") or "")[:60],
    ] for r in items]


def replica_addresses(replica: dict, host_url: str | None) -> list[str]:
    """Where a replica's published ports answer: ``host_ip:host_port``, where an
    unspecified ``host_ip`` (0.0.0.0, ::) means the host's own address, which is in its
    engine URL for tcp:// and ssh:// hosts and 127.0.0.1 for a local socket."""
    out = []
    for port in replica.get("ports") or []:
        if port.get("host_port") is None:
            continue
        ip = port.get("host_ip") or "0.0.0.0"
        if ip in ("0.0.0.0", "::", ""):
            ip = engine_address(host_url)
        out.append(f"{'[' + ip + ']' if ':' in ip else ip}:{port['host_port']}")
    return out


def engine_address(host_url: str | None) -> str:
    if not host_url or host_url.startswith("unix://"):
        return "127.0.0.1"
    return urlsplit(host_url).hostname or "127.0.0.1"


EVENT_COLUMNS = ["TIME", "TYPE", "REASON", "MESSAGE"]


def event_rows(items: list[dict]) -> list[Row]:
    return [[_short_time(e.get("time")), e.get("type", ""), e.get("reason", ""), e.get("message", "")]
            for e in items]


def event_line(event: dict) -> str:
    return f"{_short_time(event.get('time'))}  {event.get('type', ''):<7}  {event.get('reason', '')}: " \
           f"{event.get('message', '')}"


def log_line(line: dict, timestamps: bool = False) -> str:
    stamp = f"{line['time']} " if timestamps and line.get("time") else ""
    return f"{line['replica']} | {stamp}{line['line']}"


# -- describe -------------------------------------------------------------------------

def deployment_summary(d: dict, now: datetime) -> list[tuple[str, str]]:
    status, rollout = d.get("status") or {}, d.get("current_rollout")
    rows = [
        ("Name", d["name"]),
        ("Phase", status.get("phase", "-") + (f" ({status['message']})" if status.get("message") else "")),
        ("Image", d["spec"].get("image", "-")),
        ("Revision", f"{d.get('revision')} (observed {status.get('observed_revision') or '-'})"),
        ("Replicas", f"{status.get('ready_replicas', 0)}/{d['spec'].get('replicas', 0)} ready, "
                     f"{status.get('updated_replicas', 0)} up to date, "
                     f"{status.get('unavailable_replicas', 0)} unavailable"),
        ("Created", f"{d.get('created_at')} ({age(d.get('created_at'), now)} ago)"),
    ]
    if rollout:
        message = f" ({rollout['message']})" if rollout.get("message") else ""
        rows.append(("Rollout", f"{rollout['id']} {rollout['kind']} {rollout['state']}: "
                                f"{progress_text(rollout)}{message}"))
    for c in status.get("conditions") or []:
        text = f"{c['status']} {c.get('reason') or ''} {c.get('message') or ''}"
        rows.append((f"Condition {c['type']}", " ".join(text.split())))
    endpoint = d.get("endpoint") or {}
    for url in endpoint.get("urls") or []:
        rows.append(("Endpoint", url))
    return rows


def host_summary(h: dict, now: datetime) -> list[tuple[str, str]]:
    rows = [
        ("Name", h["name"]), ("URL", h.get("url", "-")), ("State", h.get("state", "-")),
        ("Schedulable", "yes" if h.get("schedulable") else "no (draining)"),
        ("Engine", h.get("engine_version") or "-"),
        ("Capacity", f"{_number(h.get('cpus'))} cpus, {_bytes(h.get('memory_bytes'))} memory, "
                     f"{_number(h.get('containers'))} containers"),
        ("Heartbeat", f"{h.get('last_heartbeat_at') or 'never'}"
                      + (f" ({age(h['last_heartbeat_at'], now)} ago)" if h.get("last_heartbeat_at") else "")),
        ("Labels", ", ".join(f"{k}={v}" for k, v in sorted((h.get("labels") or {}).items())) or "-"),
        ("Bind paths", ", ".join(h.get("allowed_bind_prefixes") or []) or "-"),
        ("Registered", h.get("created_at", "-")),
    ]
    if h.get("last_error"):
        rows.append(("Last error", h["last_error"]))
    return rows


# -- dry runs -------------------------------------------------------------------------

def dry_run_lines(name: str, result: dict, source: str) -> list[tuple[str, str]]:
    """A dry run (``DryRunResult``) as a readable diff: (style, text) lines, where style
    is ``-``, ``+`` or `` `` (context) and headings are ``#``."""
    changes = result.get("changes") or []
    if not result.get("new_revision") and not changes:
        lines = [("#", f"deployment {name}: no change (revision {result.get('revision')})")]
    else:
        what = f"revision {result.get('revision')}" + (" (new)" if result.get("new_revision") else "")
        lines = [("-", f"--- {name} (current)"), ("+", f"+++ {name} ({source}, {what})")]
    for change in changes:
        path, old, new = change["path"], change.get("old"), change.get("new")
        if old is not None:
            lines.append(("-", f"- {path}: {_value(old)}"))
        if new is not None:
            lines.append(("+", f"+ {path}: {_value(new)}"))
    if result.get("actions"):
        lines.append(("#", "planned:"))
        for a in result["actions"]:
            lines.append((" ", f"  {a['action']} slot {a['slot']} on {a['host']}: {a.get('reason', '')}"))
    for pending in result.get("pending") or []:
        lines.append(("#", f"pending: {pending}"))
    return lines


# -- rollouts -------------------------------------------------------------------------

def progress_text(rollout: dict) -> str:
    p = rollout.get("progress") or {}
    return f"updated {p.get('updated', 0)}/{p.get('desired', 0)}, ready {p.get('ready', 0)}/{p.get('desired', 0)}"


def rollout_step(rollout: dict) -> str:
    """What the rollout is doing now, in words."""
    state, kind = rollout["state"], rollout["kind"]
    if state in TERMINAL:
        return state.replace("_", " ")
    if rollout.get("message"):
        return _one_line(rollout["message"])
    if state == "pending":
        return "waiting for a worker"
    p = rollout.get("progress") or {}
    desired, updated, ready = p.get("desired", 0), p.get("updated", 0), p.get("ready", 0)
    if kind == "delete":
        return "removing containers"
    if updated < desired:
        return "starting new replicas"
    if ready < desired:
        return "waiting for replicas to be ready"
    return "removing old replicas"


def outcome_text(name: str, rollout: dict) -> str:
    """The last line of a watch."""
    state = rollout["state"]
    head = f"{name}: {rollout['kind']} rollout {_short(rollout['id'])} {state.replace('_', ' ')}"
    if state == "succeeded":
        return f"{head} ({progress_text(rollout)})"
    return head + (f": {rollout['message']}" if rollout.get("message") else "")


# -- helpers --------------------------------------------------------------------------

def _short(rollout_id: Any) -> str:
    return str(rollout_id)[:8]


def _short_time(value: str | None) -> str:
    when = parse_time(value)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else "-"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    return str(value)


# -- stacks ---------------------------------------------------------------------------

STACK_COLUMNS = ["NAME", "PHASE", "SERVICES", "REVISION", "RELEASE", "AGE", "MESSAGE"]


def stack_rows(items: list[dict], now: datetime) -> list[Row]:
    rows = []
    for s in items:
        status, release = s.get("status") or {}, s.get("current_rollout") or {}
        services = s.get("services") or []
        ready = sum(1 for v in services if v.get("phase") == "available")
        rows.append([
            s["name"], status.get("phase", "-"), f"{ready}/{len(services)} available",
            str(s.get("revision", "-")),
            f"{release['kind']} {release['state']}" if release else "-",
            age(s.get("created_at"), now), _one_line(status.get("message") or "")[:80],
        ])
    return rows


def stack_summary(s: dict, now: datetime) -> list[tuple[str, str]]:
    status, release = s.get("status") or {}, s.get("current_rollout")
    rows = [
        ("Name", s["name"]),
        ("Phase", status.get("phase", "-") + (f" ({status['message']})" if status.get("message") else "")),
        ("Revision", str(s.get("revision", "-"))),
        ("Networks", ", ".join(s.get("networks") or []) or "-"),
        ("Volumes", ", ".join(s.get("volumes") or []) or "-"),
        ("Created", f"{s.get('created_at')} ({age(s.get('created_at'), now)} ago)"),
    ]
    if release:
        message = f": {release['message']}" if release.get("message") else ""
        rows.append(("Release", f"{release['id']} {release['kind']} to revision "
                                f"{release['to_revision']} {release['state']}{message}"))
    return rows


SERVICE_COLUMNS = ["SERVICE", "DEPLOYMENT", "PHASE", "READY", "REVISION", "DEPENDS ON", "MESSAGE"]


def service_rows(services: list[dict]) -> list[Row]:
    return [[
        v["name"], v["deployment"], v.get("phase") or "not made yet",
        f"{v.get('ready_replicas', 0)}/{v.get('replicas', 0)}", _value(v.get("revision")),
        ", ".join(f"{k} ({c})" for k, c in sorted((v.get("depends_on") or {}).items())) or "-",
        _one_line(v.get("message") or "")[:60],
    ] for v in services]
