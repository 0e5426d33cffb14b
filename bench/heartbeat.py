"""The cost of one scheduler heartbeat tick with 100 registered hosts, 10 of them dead.

    .venv/bin/python -m bench.heartbeat [--ticks 10] [--engines 5] [--sockets 18]

``app.services.hosts.heartbeat_all()`` is called in this process, against a fresh
Postgres database (migrated with ``moorage migrate``; the settings point at it through
MOORAGE_* variables set before the app is imported; every other setting, e.g.
MOORAGE_HEARTBEAT_TIMEOUT_S = 1.5, at its default). Hosts are inserted as ``Host`` rows
through the app's models and session (registration through the API would refuse the dead
ones), all ``ready`` to begin with.

* 90 live hosts, all real engines: 5 private dockerds (``Engine(31..35)``), each listening
  on 18 unix sockets (its own docker.sock plus 17 more ``--host`` listeners), so every
  host has a URL of its own, a client and connection pool of its own, and a real dockerd
  answering its ``GET /info``. (Five daemons answer for ninety hosts, so this machine's
  two cores also pay for the engines' side of every heartbeat, which a real fleet's
  hosts would do on their own CPUs: a pessimistic setup.)
* 5 dead hosts that refuse at once: ``unix://`` paths of sockets that were bound and
  closed, so nothing listens (ECONNREFUSED).
* 5 dead hosts that hang: ``tcp://127.0.0.1:<port>`` tarpits, served by a separate
  process that accepts every connection and never answers, so the client waits for its
  read timeout (MOORAGE_HEARTBEAT_TIMEOUT_S).

The first tick (cold: every client negotiates its API version) is reported apart; then
``--ticks`` ticks, 1 s apart, give the median and maximum. For comparison the same is
measured with the 10 dead rows removed (90 live hosts only). Each tick is split by timing
the app's own calls from outside (wrapped, not changed): the read of the host rows, the
concurrent pings (per-host ``info()`` latency too), and the write of the results. CPU
seconds per tick of this process and of the five dockerds come from /proc.

Everything is removed in ``finally``: the tarpit process, the database, the engines this
benchmark started and their bridges, the dead sockets. Traffic: 127.0.0.1 and unix
sockets only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    VENV_BIN,
    MoorageStack,
    background_load,
    load_average,
    log,
    med,
    remove_bridge,
)
from tests.support import dockerd

ENGINE_BASE = 31  # engines 31.. (no test suite or other benchmark uses them)
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARPIT = r"""
import socket, sys, selectors, signal
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
sel = selectors.DefaultSelector()
ports = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(512); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ); ports.append(s.getsockname()[1])
print(" ".join(map(str, ports)), flush=True)
held = []
while True:
    for key, _ in sel.select():
        try:
            conn, _ = key.fileobj.accept()
            held.append(conn)  # accepted, read nothing, answer nothing, never close
        except BlockingIOError:
            pass
"""


@dataclass(frozen=True)
class MultiSocketEngine(dockerd.Engine):
    """An Engine whose dockerd also listens on `extra` more unix sockets."""

    extra: int = 0

    def extra_socket(self, i: int) -> Path:
        return self.root / f"hb{i}.sock"

    @property
    def urls(self) -> list[str]:
        return [self.url] + [f"unix://{self.extra_socket(i)}" for i in range(self.extra)]

    def _launch(self) -> int | None:  # Engine._launch, plus the extra --host listeners
        dockerd.require_tools()
        if self.pid() is not None:
            return None
        self.pidfile.unlink(missing_ok=True)
        self._forget_dead_containerd()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.exec_dir.mkdir(parents=True, exist_ok=True)
        config = {}
        if dockerd._dockerd_major_version() < 23:
            config["deprecated-key-path"] = str(self.root / "key.json")
        self.config_file.write_text(json.dumps(config) + "\n")
        self._ensure_bridge()
        cmd = [
            dockerd._which("dockerd") or "dockerd",
            *[f"--host={u}" for u in self.urls],
            f"--data-root={self.data_dir}",
            f"--exec-root={self.exec_dir}",
            f"--pidfile={self.pidfile}",
            f"--config-file={self.config_file}",
            f"--containerd-namespace=moorage-{self.name}",
            f"--containerd-plugins-namespace=moorage-{self.name}-plugins",
            f"--bridge={self.bridge}",
            "--iptables=false",
            "--ip-masq=false",
            "--userland-proxy=true",
        ]
        launcher = subprocess.run(
            ["/bin/sh", "-c", dockerd._BACKGROUND, "sh", *cmd],
            env={**os.environ, "MOORAGE_DOCKERD_LOG": str(self.logfile)},
            capture_output=True, text=True, check=True, start_new_session=True,
        )
        return int(launcher.stdout.strip())


def refused_socket(path: Path) -> str:
    """A unix socket path with nothing listening: connect() fails with ECONNREFUSED."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the file stays, the listener is gone
    return f"unix://{path}"


def proc_ticks(pid: int) -> int:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def tree_ticks(pids: list[int]) -> int:
    """CPU ticks of these processes and their children (containerd) so far."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(entry.name) in pids or int(fields[1]) in pids:
            total += int(fields[11]) + int(fields[12])
    return total


class TickProbe:
    """Times the phases of heartbeat_all() by wrapping what it calls (no app change)."""

    def __init__(self) -> None:
        import app.services.hosts as hosts_mod
        from app.dockerhost import engine as engine_mod

        self.hosts_mod, self.engine_mod = hosts_mod, engine_mod
        self.sessions: list[tuple[float, float]] = []
        self.pool: list[tuple[float, float]] = []
        self.pings: list[tuple[str, float, float, bool]] = []  # url, started, took, ok
        self._lock = threading.Lock()
        real_scope = hosts_mod.session_scope
        real_pool = hosts_mod.ThreadPoolExecutor
        real_info = engine_mod.EngineClient.info
        probe = self

        @contextmanager
        def timed_scope():
            t = time.monotonic()
            with real_scope() as s:
                yield s
            probe.sessions.append((t, time.monotonic()))

        class TimedPool(real_pool):  # type: ignore[misc, valid-type]
            """The ping phase: from the pool's creation to its shutdown (the tick deadline)."""

            def __init__(self, *args, **kwargs):
                self._t = time.monotonic()
                super().__init__(*args, **kwargs)

            def shutdown(self, *args, **kwargs):
                out = super().shutdown(*args, **kwargs)
                probe.pool.append((self._t, time.monotonic()))
                return out

        def timed_info(client):
            t = time.monotonic()
            ok = False
            try:
                result = real_info(client)
                ok = True
                return result
            finally:
                with probe._lock:
                    probe.pings.append((client.url, t, time.monotonic() - t, ok))

        self._restore: list[Callable[[], None]] = [
            lambda: setattr(hosts_mod, "session_scope", real_scope),
            lambda: setattr(hosts_mod, "ThreadPoolExecutor", real_pool),
            lambda: setattr(engine_mod.EngineClient, "info", real_info),
        ]
        hosts_mod.session_scope = timed_scope
        hosts_mod.ThreadPoolExecutor = TimedPool
        engine_mod.EngineClient.info = timed_info

    def reset(self) -> None:
        self.sessions.clear()
        self.pool.clear()
        self.pings.clear()

    def restore(self) -> None:
        for undo in self._restore:
            undo()


def tick(probe: TickProbe, engine_pids: list[int], heartbeat_all: Callable[[], Any]) -> dict[str, Any]:
    probe.reset()
    me = os.getpid()
    cpu_me, cpu_eng = proc_ticks(me), tree_ticks(engine_pids)
    t0 = time.monotonic()
    changed = heartbeat_all().changed_hosts
    total = time.monotonic() - t0
    cpu_me, cpu_eng = proc_ticks(me) - cpu_me, tree_ticks(engine_pids) - cpu_eng
    (r0, r1), (w0, w1) = probe.sessions[0], probe.sessions[-1]
    p0, p1 = probe.pool[0]
    live = sorted(d for url, _, d, ok in probe.pings if ok)

    def kind(url: str) -> str:
        return "tarpit" if url.startswith("tcp://") else "refused" if "/dead" in url else "live"

    by_kind: dict[str, dict[str, float]] = {}
    for k in ("live", "refused", "tarpit"):
        rows = [(st - p0, d) for url, st, d, _ in probe.pings if kind(url) == k]
        if rows:
            by_kind[k] = {"start_max": max(r[0] for r in rows), "took_max": max(r[1] for r in rows),
                          "end_max": max(r[0] + r[1] for r in rows)}
    return {
        "total": total, "changed": len(changed), "read": r1 - r0, "pool": p1 - p0,
        "between": w0 - p1, "write": w1 - w0, "cpu_self": cpu_me / CLK_TCK,
        "cpu_engines": cpu_eng / CLK_TCK,
        "ping_live_median": med(live), "ping_live_max": max(live) if live else float("nan"),
        "pings_ok": len(live), "pings_failed": sum(1 for *_, ok in probe.pings if not ok),
        "by_kind": by_kind,
    }


def describe(label: str, r: dict[str, Any]) -> str:
    return (f"{label}: {r['total']:.3f}s (read {r['read']:.3f}, pings {r['pool']:.3f}, "
            f"write {r['write']:.3f}); live info() median {r['ping_live_median'] * 1000:.0f} ms, "
            f"max {r['ping_live_max'] * 1000:.0f} ms; {r['pings_ok']} ok, {r['pings_failed']} failed; "
            f"{r['changed']} changed; CPU: this process {r['cpu_self']:.2f}s, dockerds {r['cpu_engines']:.2f}s"
            + "".join(f"\n    {k}: last ping began +{v['start_max']:.3f}s into the pings, longest "
                      f"{v['took_max']:.3f}s, last ended +{v['end_max']:.3f}s" for k, v in r["by_kind"].items()))


def summarize(ticks: list[dict[str, Any]]) -> dict[str, float]:
    keys = ("total", "read", "pool", "write", "ping_live_median", "ping_live_max", "cpu_self",
            "cpu_engines")
    out = {f"{k}_median": med([t[k] for t in ticks]) for k in keys}
    out["total_max"] = max(t["total"] for t in ticks)
    for k in ("live", "refused", "tarpit"):
        vals = [t["by_kind"][k] for t in ticks if k in t["by_kind"]]
        if vals:
            out[f"{k}_start_max_median"] = med([v["start_max"] for v in vals])
            out[f"{k}_took_max_median"] = med([v["took_max"] for v in vals])
            out[f"{k}_end_max_median"] = med([v["end_max"] for v in vals])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--engines", type=int, default=5)
    parser.add_argument("--sockets", type=int, default=18, help="unix sockets per engine")
    parser.add_argument("--refused", type=int, default=5)
    parser.add_argument("--tarpits", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep-engines", action="store_true")
    args = parser.parse_args(argv)

    dockerd.require_tools()
    engines = [MultiSocketEngine(ENGINE_BASE + i, extra=args.sockets - 1) for i in range(args.engines)]
    tmp = Path(tempfile.mkdtemp(prefix="moorage-bench-hb-"))
    stack = MoorageStack(engines[0], tmp)  # for its database only: no processes
    started: list[MultiSocketEngine] = []
    tarpit: subprocess.Popen | None = None
    res: dict[str, Any] = {}
    probe: TickProbe | None = None
    try:
        busy = background_load()
        res["load_start"] = load_average()
        log(f"load average {res['load_start']}, {busy:.0%} of {os.cpu_count()} cores busy")
        for e in engines:
            if e.is_up():
                raise RuntimeError(f"engine {e.name} is already running; not reusing it")
        pids = {e: e._launch() for e in engines}
        started = list(engines)
        for e, pid in pids.items():
            e._wait_until_up(pid, 60)
        engine_pids = [p for e in engines if (p := e.pid()) is not None]
        live = [u for e in engines for u in e.urls]
        refused = [refused_socket(tmp / f"dead{i}.sock") for i in range(args.refused)]
        tarpit = subprocess.Popen([str(VENV_BIN / "python"), "-c", TARPIT, str(args.tarpits)],
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)
        ports = tarpit.stdout.readline().split()  # type: ignore[union-attr]
        hanging = [f"tcp://127.0.0.1:{p}" for p in ports]
        log(f"{len(live)} live hosts on {len(engines)} dockerds, {len(refused)} refusing, "
            f"{len(hanging)} tarpits (ports {' '.join(ports)})")

        stack.create_database()
        os.environ.update({k: v for k, v in stack.env.items() if k.startswith("MOORAGE_")})
        from app.db import session_scope, utcnow
        from app.dockerhost.engine import _clients
        from app.models import Host
        from app.services.hosts import heartbeat_all

        def insert(urls: list[str], prefix: str) -> list[uuid.UUID]:
            now = utcnow()
            ids = []
            with session_scope() as s:
                for i, url in enumerate(urls):
                    h = Host(id=uuid.uuid4(), name=f"{prefix}{i:03d}", url=url, labels={},
                             state="ready", schedulable=True, created_at=now, updated_at=now,
                             resource_version=1, containers=0)
                    s.add(h)
                    ids.append(h.id)
            return ids

        insert(live, "live")
        dead_ids = insert(refused, "refused") + insert(hanging, "tarpit")
        probe = TickProbe()

        def series(label: str) -> dict[str, Any]:
            _clients.clear()  # a fresh process: every client negotiates its version first
            cold = tick(probe, engine_pids, heartbeat_all)
            log(describe(f"{label} cold tick", cold))
            ticks = []
            for i in range(args.ticks):
                time.sleep(1.0)
                ticks.append(tick(probe, engine_pids, heartbeat_all))
                log(describe(f"{label} tick {i + 1}", ticks[-1]))
            return {"cold": cold, "ticks": ticks, "summary": summarize(ticks),
                    "load": load_average()}

        res["with_dead"] = series(f"{len(live) + len(dead_ids)} hosts ({len(dead_ids)} dead)")
        with session_scope() as s:
            for hid in dead_ids:
                s.delete(s.get(Host, hid))
        res["live_only"] = series(f"{len(live)} live hosts only")
        res["load_end"] = load_average()
    finally:
        if probe is not None:
            probe.restore()
        if tarpit is not None:
            tarpit.terminate()
            with suppress(subprocess.TimeoutExpired):
                tarpit.wait(5)
        with suppress(Exception):
            from app.db import get_engine  # type: ignore[attr-defined]

            get_engine().dispose()
        try:
            stack.drop()
        except Exception as exc:
            log(f"cleanup: dropping the database failed: {exc}")
        if not args.keep_engines:
            for e in started:
                e.stop()
                remove_bridge(e.bridge)
                for i in range(e.extra):
                    e.extra_socket(i).unlink(missing_ok=True)
                if e.pid() is None:  # nothing of value in it: no images, no containers
                    shutil.rmtree(e.root, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    print()
    print(f"{os.cpu_count()} cores; load average {res['load_start']} at the start, "
          f"{res.get('load_end')} at the end; MOORAGE_HEARTBEAT_TIMEOUT_S at its default.")
    print("| hosts | cold tick (s) | tick median (s) | tick max (s) | read | pings | write "
          "| live info() median / max (ms) | CPU per tick: heartbeat process / 5 dockerds (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, label in (("with_dead", "100 (90 live, 5 refused, 5 tarpit)"), ("live_only", "90 live")):
        r = res.get(key)
        if not r:
            continue
        s = r["summary"]
        print(f"| {label} | {r['cold']['total']:.2f} | {s['total_median']:.2f} | {s['total_max']:.2f} "
              f"| {s['read_median']:.3f} | {s['pool_median']:.3f} | {s['write_median']:.3f} "
              f"| {s['ping_live_median_median'] * 1000:.0f} / {s['ping_live_max_median'] * 1000:.0f} "
              f"| {s['cpu_self_median']:.2f} / {s['cpu_engines_median']:.2f} |")
        print("|   individual ticks | | " + " ".join(f"{t['total']:.2f}" for t in r["ticks"]) + " | | | | | | |")
    print()
    print("Inside the pings (medians over ticks; seconds from the start of the ping phase):")
    for key in ("with_dead", "live_only"):
        r = res.get(key)
        if not r:
            continue
        s = r["summary"]
        for k in ("live", "refused", "tarpit"):
            if f"{k}_start_max_median" in s:
                print(f"- {key}, {k} hosts: the last one's ping began +{s[f'{k}_start_max_median']:.3f}, "
                      f"the longest took {s[f'{k}_took_max_median']:.3f}, the last ended "
                      f"+{s[f'{k}_end_max_median']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
