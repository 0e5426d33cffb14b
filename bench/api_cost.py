"""In-process cost of one request of the hot reads: no HTTP server, no client, no network.

``python bench/api_cost.py`` makes a private Postgres database (or, with ``--sqlite``, the
embedded default's SQLite file), migrates it, makes the same fleet as `bench.api` (100
deployments of one image, the first 4 with a replica on a host, usage samples of it over
the retention window and a finished rollout; the rest at 0 replicas), then calls the ASGI
app directly, one request at a time, from one asyncio loop, as uvicorn would (sync
endpoints go through the thread pool): ``/healthz``, ``GET /v1/deployments/bench-000``,
``GET /v1/deployments/bench-050`` (0 replicas) and ``GET /v1/deployments?limit=100``.
It prints, per request, the median and mean wall time and the mean CPU time of this
process (the app's work, the database's own CPU not included), then, with ``--profile
DIR``, a pyinstrument profile of each.

Run as a file with another venv's python to measure that venv's code: it imports only
``app`` (installed in that venv) and the standard library, pyinstrument and sqlalchemy.
A benchmark: run it under ``flock /tmp/moorage-heavy.lock`` for figures you record.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

PG_ADMIN_URL = os.environ.get("MOORAGE_BENCH_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("MOORAGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = f"mrg_bench_{uuid.uuid4().hex}{uuid.uuid4().hex}"
IMAGE = "moorage-test/web:v1"


def spec(i: int, running: int) -> dict:
    """As bench.api's."""
    return {"image": IMAGE, "replicas": 1 if i < running else 0,
            "env": {"BENCH_INDEX": str(i)}, "labels": {"bench": "api"}}


class Asgi:
    """Requests straight into the ASGI app, as a server would hand them over."""

    def __init__(self, app) -> None:
        self.app = app

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        raw_path, _, query = path.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": raw_path,
            "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
            "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {TOKEN}".encode()),
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1), "server": ("bench", 80), "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # never: a disconnect would end the request

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


class Lifespan:
    """The app's startup and shutdown, as a server runs them."""

    def __init__(self, app) -> None:
        self.app, self.queue = app, asyncio.Queue()
        self.started, self.task = asyncio.Event(), None

    async def _send(self, message) -> None:
        if message["type"].startswith("lifespan.startup"):
            self.started.set()

    async def start(self) -> None:
        await self.queue.put({"type": "lifespan.startup"})
        self.task = asyncio.ensure_future(self.app(
            {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, self.queue.get,
            self._send))
        await self.started.wait()

    async def stop(self) -> None:
        await self.queue.put({"type": "lifespan.shutdown"})
        await self.task


def furnish(running: int) -> None:
    """Each of the first ``running`` deployments: one running replica on a host, its usage
    samples over the retention window (one per tick), its rollouts finished."""
    from sqlalchemy import select, update

    from app.config import get_settings
    from app.db import session_scope
    from app.models import Deployment, Host, Replica, Rollout, UsageSample

    settings = get_settings()
    now = datetime.now(UTC)
    ticks = int(settings.usage_retention_s // settings.usage_interval_s)
    with session_scope() as session:
        host = Host(name="bench-host", url="unix:///nowhere.sock", state="ready")
        session.add(host)
        session.flush()
        for d in session.scalars(select(Deployment).order_by(Deployment.name)):
            d.phase = "available"
            d.ready_replicas = d.updated_replicas = d.replicas
            d.observed_revision = d.revision
            if not d.replicas:
                continue
            cid = uuid.uuid4().hex + uuid.uuid4().hex
            session.add(Replica(deployment_id=d.id, host_id=host.id, slot=0, revision=d.revision,
                                template_hash="0" * 64, container_id=cid,
                                container_name=f"{d.name}-0", state="running", health="healthy"))
            for k in range(ticks):
                session.add(UsageSample(
                    deployment_id=d.id, container_id=cid,
                    sampled_at=now - timedelta(seconds=k * settings.usage_interval_s),
                    cpu_percent=1.5, memory_bytes=12 << 20, memory_percent=None,
                    cpu_total_ns=10**9 - k, online_cpus=2))
        session.execute(update(Rollout).values(state="succeeded", finished_at=now,
                                               started_at=now, ready=1, updated=1, desired=1))


def refresh_samples() -> None:
    """Move the samples' times up to now, as the sampler would have written them: fresh
    (so every measured GET sums some), however long the run took so far."""
    from sqlalchemy import func, select

    from app.db import session_scope
    from app.models import UsageSample

    with session_scope() as session:
        newest = session.scalar(select(func.max(UsageSample.sampled_at)))
        if newest is None:
            return
        shift = datetime.now(UTC) - newest
        for sample in session.scalars(select(UsageSample)):
            sample.sampled_at = sample.sampled_at + shift


def inline_threadpool() -> None:
    """Run FastAPI's sync endpoints and dependencies on the loop's thread (profiling only:
    it saves the thread hops a server pays)."""
    import anyio.to_thread
    import fastapi.concurrency
    import fastapi.dependencies.utils
    import fastapi.routing

    async def inline(func, *args, **kwargs):
        return func(*args, **kwargs)

    async def run_sync(func, *args, limiter=None, **_kw):
        return func(*args)

    for module in (fastapi.concurrency, fastapi.routing, fastapi.dependencies.utils):
        module.run_in_threadpool = inline
    anyio.to_thread.run_sync = run_sync


_WAITING = ("Condition.wait ", "Event.wait ", "Queue.get ", "EpollSelector.select ",
            "BaseSelector.select ", "select ")


def spy_summary(raw: Path, floor: float = 1.0) -> str:
    """Inclusive share of the non-idle samples in each frame (>= ``floor`` %), by share."""
    total, incl = 0, {}
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit() or "(idle)" in stack:
            continue
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        if frames[-1].startswith(_WAITING):
            continue  # a thread waiting for work (or the loop for a thread), not doing it
        total += int(n)
        for frame in set(frames):
            incl[frame] = incl.get(frame, 0) + int(n)
    rows = sorted(((100 * n / total, f) for f, n in incl.items()), reverse=True)
    return "\n".join(f"{share:5.1f}%  {frame}" for share, frame in rows if share >= floor) + "\n"


class GcPauses:
    """The collector's pauses, per generation, from ``gc.callbacks``: a full collection
    stops every request in the process for as long as it takes to walk every object."""

    def __init__(self) -> None:
        import gc

        self._gc, self._started = gc, 0.0
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(1000 * (time.perf_counter() - self._started))

    def stop(self) -> None:
        self._gc.callbacks.remove(self._callback)

    def report(self) -> str:
        parts = [f"gen{g}: {len(p)} pauses, {sum(p):.1f} ms in all, max {max(p, default=0):.2f} ms"
                 for g, p in self.pauses.items()]
        frozen = self._gc.get_freeze_count()
        return f"GC during the measured requests ({frozen} objects frozen): " + "; ".join(parts)


def measure(loop, client: Asgi, path: str, n: int) -> dict:
    walls, cpus = [], []
    for _ in range(n):
        c0, t0 = time.process_time(), time.perf_counter()
        status, body = loop.run_until_complete(client.request("GET", path))
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
    return {"p50_ms": statistics.median(walls) * 1e3, "mean_ms": statistics.fmean(walls) * 1e3,
            "cpu_ms": statistics.fmean(cpus) * 1e3, "bytes": len(body)}


def new_event_loop(plain_asyncio: bool) -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed, as uvicorn's ``loop="auto"`` picks (each
    socket wait costs less in it than in asyncio's selector loop)."""
    if not plain_asyncio:
        with contextlib.suppress(ImportError):
            import uvloop

            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def use_private_database(db_name: str):
    """Create ``db_name`` on the bench's Postgres and point this process's settings at it
    (and at a queue of the same name). Returns the admin engine, to drop it with."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    os.environ.update({"MOORAGE_DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db_name}",
                       "MOORAGE_BROKER_URL": REDIS_URL, "MOORAGE_QUEUE": db_name})
    return admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="requests per measured path")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the paths")
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--running", type=int, default=4)
    parser.add_argument("--sqlite", action="store_true", help="the embedded default's SQLite")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="pyinstrument profiles here")
    parser.add_argument("--spy", type=Path, metavar="DIR",
                        help="py-spy profiles here (sampled from outside: no per-call overhead)")
    parser.add_argument("--gc", action="store_true",
                        help="print the garbage collector's pauses during the measured requests")
    parser.add_argument("--asyncio-loop", action="store_true",
                        help="asyncio's own loop, not uvloop's (which uvicorn uses when installed)")
    parser.add_argument("--keep-db", action="store_true", help="leave the database (and say where)")
    parser.add_argument("--dump", type=Path, metavar="DIR",
                        help="write each answer's body here (to compare two versions')")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="moorage-api-cost-"))
    os.environ.update({"MOORAGE_DATA_DIR": str(data_dir), "MOORAGE_BOOTSTRAP_TOKEN": TOKEN,
                       "MOORAGE_SECRET_KEYS": os.environ.get("MOORAGE_SECRET_KEYS")
                       or base64.urlsafe_b64encode(os.urandom(32)).decode(),
                       "MOORAGE_LOG_LEVEL": "WARNING"})
    db_name = f"moorage_cost_{uuid.uuid4().hex[:8]}"
    admin = None
    if args.sqlite:
        os.environ.pop("MOORAGE_DATABASE_URL", None)
        os.environ.pop("MOORAGE_BROKER_URL", None)
    else:
        admin = use_private_database(db_name)
    loop = new_event_loop(args.asyncio_loop)
    try:
        from app.db import get_engine
        from app.main import create_app
        from app.migrate import upgrade_to_head

        upgrade_to_head()
        app = create_app()
        lifespan = Lifespan(app)
        loop.run_until_complete(lifespan.start())
        with contextlib.suppress(ImportError):  # as app.main.serve does, where the code has it
            from app.heap import tune_collector

            tune_collector()
        client = Asgi(app)
        import json

        for i in range(args.deployments):
            status, body = loop.run_until_complete(client.request(
                "PUT", f"/v1/deployments/bench-{i:03d}", json.dumps(spec(i, args.running)).encode()))
            if status not in (200, 201):
                raise RuntimeError(f"PUT bench-{i:03d}: {status} {body[:300]!r}")
        furnish(args.running)
        paths = {"healthz": "/healthz", "get_running": "/v1/deployments/bench-000",
                 "get_idle": f"/v1/deployments/bench-{args.deployments // 2:03d}",
                 "list_100": "/v1/deployments?limit=100"}
        results: dict[str, list[dict]] = {k: [] for k in paths}
        pauses = GcPauses() if args.gc else None
        for _ in range(args.rounds):  # interleaved, so a noisy moment spreads over all
            for key, path in paths.items():
                n = args.n if key != "list_100" else max(args.n // 10, 10)
                refresh_samples()
                measure(loop, client, path, max(n // 10, 5))  # warm
                results[key].append(measure(loop, client, path, n))
        if pauses is not None:
            pauses.stop()
            print(pauses.report())
        print(f"{'request':12s} {'p50 ms':>8s} {'mean ms':>8s} {'CPU ms':>8s} {'bytes':>7s}"
              f"   (best round of {args.rounds}; {'SQLite' if args.sqlite else 'Postgres'})")
        for key, rounds in results.items():
            best = min(rounds, key=lambda r: r["p50_ms"])
            print(f"{key:12s} {best['p50_ms']:8.2f} {best['mean_ms']:8.2f} {best['cpu_ms']:8.2f} "
                  f"{best['bytes']:7d}")
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            refresh_samples()
            for key, path in paths.items():
                _, body = loop.run_until_complete(client.request("GET", path))
                (args.dump / f"{key}.json").write_bytes(body)
        if args.spy:
            args.spy.mkdir(parents=True, exist_ok=True)
            for key, path in paths.items():
                n = args.n if key != "list_100" else max(args.n // 10, 10)
                raw = args.spy / f"{key}.raw"
                spy = subprocess.Popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(os.getpid()),
                     "--rate", "1000", "--format", "raw", "--threads", "--output", str(raw)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                refresh_samples()
                time.sleep(1.0)  # attached
                measure(loop, client, path, n * 3)
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
                (args.spy / f"{key}.txt").write_text(spy_summary(raw))
        if args.profile:
            from pyinstrument import Profiler

            inline_threadpool()  # pyinstrument sees one thread: run the sync parts on it
            args.profile.mkdir(parents=True, exist_ok=True)
            for key, path in paths.items():
                n = args.n if key != "list_100" else max(args.n // 10, 10)
                refresh_samples()
                profiler = Profiler(interval=0.0002, async_mode="disabled")
                profiler.start()
                measure(loop, client, path, n)
                profiler.stop()
                (args.profile / f"{key}.txt").write_text(
                    profiler.output_text(unicode=False, color=False, show_all=False))
                (args.profile / f"{key}.all.txt").write_text(
                    profiler.output_text(unicode=False, color=False, show_all=True))
        loop.run_until_complete(lifespan.stop())
        get_engine().dispose()
    finally:
        loop.close()
        if args.keep_db:
            print("kept:", os.environ.get("MOORAGE_DATABASE_URL") or data_dir)
        elif admin is not None:
            import sqlalchemy as sa

            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()
        if not args.keep_db:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
