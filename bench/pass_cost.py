"""In-process cost of one reconcile task: what a worker spends on a deployment per job.

``python -m bench.pass_cost`` makes a private Postgres database, migrates it, starts one
private engine and registers it, makes ``--deployments`` deployments at 0 replicas and
``--running`` at one replica (converged first), then runs `Reconciler.run` straight in
this process, as a worker's task does, one job at a time:

* **new revision, 0 replicas**: a PUT of a changed spec (not measured) then the job it
  sends, the case `bench.api`'s "PUT new revision" phase makes 50 times a second;
* **resync, converged, 1 replica**: the job the resync sends a deployment that is as it
  should be (the steady state of part 4's idle fleet).

It prints, per case, the mean CPU time of this process (the database's own not included),
the median wall time, and the statements and transactions (commits) a job costs, counted
on the app's engine. ``--profile DIR`` writes a pyinstrument profile of each case.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.api_cost import (
    REDIS_URL,
    TOKEN,
    Asgi,
    Lifespan,
    new_event_loop,
    use_private_database,
)
from tests.support import dockerd

ENGINE_INDEX = 102  # bench.api uses 101


class Counts:
    """Statements and commits on an engine, from SQLAlchemy's events."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.statements = self.commits = 0
        self.log: list[str] = []
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn, _cursor, statement: str, *_args) -> None:
        self.statements += 1
        self.log.append(" ".join(statement.split())[:140])

    def _commit(self, *_args) -> None:
        self.commits += 1
        self.log.append("COMMIT")


def measure(job: Callable[[uuid.UUID], None], prepare: Callable[[int], uuid.UUID], n: int,
            counts: Counts, profile: Path | None = None) -> dict:
    """``job(prepare(i))`` for i < n, only the job measured."""
    cpus, walls, statements, commits = [], [], [], []
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
    for i in range(n):
        deployment_id = prepare(i)
        s0, k0 = counts.statements, counts.commits
        counts.log.clear()
        if profiler is not None:
            profiler.start()
        c0, t0 = time.process_time(), time.perf_counter()
        job(deployment_id)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        if profiler is not None:
            profiler.stop()
        statements.append(counts.statements - s0)
        commits.append(counts.commits - k0)
    if profiler is not None and profile is not None:
        profile.write_text(profiler.output_text(unicode=True, show_all=False))
    return {"cpu_ms": statistics.fmean(cpus) * 1e3, "p50_ms": statistics.median(walls) * 1e3,
            "statements": statistics.median(statements), "commits": statistics.median(commits),
            "last_job": list(counts.log)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="jobs per measured case")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--deployments", type=int, default=20, help="at 0 replicas")
    parser.add_argument("--running", type=int, default=4, help="at 1 replica")
    parser.add_argument("--profile", type=Path, metavar="DIR")
    parser.add_argument("--keep-engine", action="store_true")
    parser.add_argument("--show", action="store_true", help="print each case's last job's statements")
    args = parser.parse_args()

    engine = dockerd.Engine(ENGINE_INDEX)
    dockerd.require_tools()
    started_engine = not engine.is_up()
    engine.start()
    dockerd.build_test_images(engine)
    engine.remove_all_containers()

    data_dir = Path(tempfile.mkdtemp(prefix="moorage-pass-cost-"))
    db_name = f"moorage_pass_{uuid.uuid4().hex[:8]}"
    os.environ.update({
        "MOORAGE_DATA_DIR": str(data_dir), "MOORAGE_BOOTSTRAP_TOKEN": TOKEN,
        "MOORAGE_SECRET_KEYS": os.environ.get("MOORAGE_SECRET_KEYS")
        or base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "MOORAGE_LOG_LEVEL": "WARNING"})
    admin = use_private_database(db_name)
    loop = new_event_loop(False)
    try:
        from app.db import get_engine, session_scope
        from app.main import create_app
        from app.migrate import upgrade_to_head
        from app.repositories import deployments as deployment_repo
        from app.services.hosts import heartbeat_all
        from app.services.reconciler import Reconciler

        upgrade_to_head()
        app = create_app()
        lifespan = Lifespan(app)
        loop.run_until_complete(lifespan.start())
        client = Asgi(app)

        def call(method: str, path: str, body: dict) -> dict:
            status, raw = loop.run_until_complete(
                client.request(method, path, json.dumps(body).encode()))
            if status >= 300:
                raise RuntimeError(f"{method} {path}: {status} {raw[:300]!r}")
            return json.loads(raw)

        call("POST", "/v1/hosts", {"name": "bench", "url": engine.url, "edge": False})
        heartbeat_all()

        def put(name: str, replicas: int, n: int) -> uuid.UUID:
            call("PUT", f"/v1/deployments/{name}", {
                "image": dockerd.WEB_V1, "replicas": replicas, "env": {"N": str(n)}})
            with session_scope() as session:
                return deployment_repo.find_by_name(session, name).id

        idle = [put(f"idle-{i:03d}", 0, 0) for i in range(args.deployments)]
        running = [put(f"run-{i:03d}", 1, 0) for i in range(args.running)]
        reconciler = Reconciler(owner="bench")
        for did in idle + running:
            for _ in range(20):  # a job runs passes until done, or defers a long wait
                reconciler.run(did)
                with session_scope() as session:
                    d = deployment_repo.find(session, did)
                    if d.ready_replicas == d.replicas and d.observed_revision == d.revision:
                        break
                time.sleep(0.3)
            else:
                raise RuntimeError(f"deployment {did} did not converge")

        counts = Counts(get_engine())
        fresh = iter(range(1, 10**9))

        def new_revision(i: int) -> uuid.UUID:
            return put(f"idle-{i % len(idle):03d}", 0, next(fresh))

        def converged(i: int) -> uuid.UUID:
            return running[i % len(running)]

        cases = {"new revision, 0 replicas": new_revision,
                 "resync, converged, 1 replica": converged}
        results: dict[str, list[dict]] = {k: [] for k in cases}
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        for r in range(args.rounds):
            for key, prepare in cases.items():
                measure(reconciler.run, prepare, max(args.n // 10, 5), counts)  # warm
                profile = None
                if args.profile and r == args.rounds - 1:
                    profile = args.profile / (key.split(",")[0].replace(" ", "_") + ".txt")
                results[key].append(measure(reconciler.run, prepare, args.n, counts, profile))
        print(f"\n== bench.pass_cost (one reconcile job, in process; {args.n} jobs x "
              f"{args.rounds} rounds) ==")
        print(f"{'case':32} {'CPU ms':>14} {'wall p50 ms':>14} {'statements':>11} {'commits':>8}")
        for key, rows in results.items():
            cpu = " / ".join(f"{row['cpu_ms']:.2f}" for row in rows)
            wall = " / ".join(f"{row['p50_ms']:.2f}" for row in rows)
            print(f"{key:32} {cpu:>14} {wall:>14} {rows[-1]['statements']:>11} "
                  f"{rows[-1]['commits']:>8}")
        if args.show:
            for key, rows in results.items():
                print(f"\n-- {key}: the last job's statements")
                print("\n".join(f"  {line}" for line in rows[-1]["last_job"]))
        loop.run_until_complete(lifespan.stop())
    finally:
        loop.close()
        from app.db import get_engine

        get_engine().dispose()
        import sqlalchemy as sa

        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
        import redis

        redis.Redis.from_url(REDIS_URL).delete(db_name)
        engine.remove_all_containers()
        if started_engine and not args.keep_engine:
            engine.stop()


if __name__ == "__main__":
    main()
