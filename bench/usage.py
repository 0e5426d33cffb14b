"""The cost of one usage sampling tick: 100 running replicas on one engine, and the same
with a host that never answers.

    .venv/bin/python -m bench.usage [--replicas 100] [--ticks 5]

``app.services.usage.sample_all()`` is called in this process, against a fresh Postgres
database (``moorage migrate``; settings from MOORAGE_* variables set before the app is
imported; every other setting at its default: MOORAGE_USAGE_TIMEOUT_S = 3,
MOORAGE_USAGE_POOL_SIZE = 64). ``--replicas`` idle containers (busybox ``sleep``, FROM
scratch) run on a private dockerd (``Engine(92)``); each has a ``Replica`` row marked
running, as a reconcile pass records it. The second series adds a host that accepts
connections and never answers (a tarpit on 127.0.0.1) with 10 replica rows: the tick
must stay bounded by the timeout, and the live host's samples must all arrive.

Reported per tick: wall time, samples written, CPU seconds of this process and of the
dockerd (with its containerd) from /proc. Everything is removed in ``finally``.
Traffic: 127.0.0.1 and unix sockets only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

from bench.harness import VENV_BIN, MoorageStack, load_average, log, med
from bench.heartbeat import CLK_TCK, TARPIT, proc_ticks, tree_ticks
from tests.support import dockerd

ENGINE = 92  # the autoscale suites' engines are 91-93


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args(argv)

    engine = dockerd.Engine(ENGINE)
    tmp = Path(tempfile.mkdtemp(prefix="moorage-bench-usage-"))
    stack = MoorageStack(engine, tmp)  # for its database only: no processes
    tarpit: subprocess.Popen | None = None
    rows: list[tuple[str, float, int, float, float]] = []
    try:
        engine.start()
        dockerd.build_test_images(engine)
        import docker

        api = docker.APIClient(base_url=engine.url, timeout=60)

        def run(i: int) -> str:
            cid = api.create_container(dockerd.WEB_V1, command=["/bin/sleep", "3600"],
                                       name=f"usage-bench-{i}",
                                       labels={dockerd.MANAGED_LABEL: "true"})["Id"]
            api.start(cid)
            return cid

        t = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            containers = list(pool.map(run, range(args.replicas)))
        log(f"{len(containers)} containers running in {time.monotonic() - t:.1f} s")
        tarpit = subprocess.Popen([str(VENV_BIN / "python"), "-c", TARPIT, "1"],
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)
        port = tarpit.stdout.readline().strip()  # type: ignore[union-attr]

        stack.create_database()
        os.environ.update({k: v for k, v in stack.env.items() if k.startswith("MOORAGE_")})
        from app.db import session_scope, utcnow
        from app.models import Deployment, Host, Replica
        from app.services.usage import sample_all

        def host_with(url: str, name: str, ids: list[str]) -> uuid.UUID:
            now = utcnow()
            with session_scope() as s:
                h = Host(name=name, url=url, labels={}, state="ready", schedulable=True,
                         created_at=now, updated_at=now, resource_version=1, containers=0)
                d = Deployment(name=f"bench-{name}", labels={}, replicas=len(ids),
                               created_at=now, updated_at=now, slot_restarts={})
                s.add_all([h, d])
                s.flush()
                for slot, cid in enumerate(ids):
                    s.add(Replica(deployment_id=d.id, host_id=h.id, slot=slot, revision=1,
                                  template_hash="bench", container_id=cid,
                                  container_name=f"{name}-{slot}", state="running"))
                return h.id

        host_with(engine.url, "live", containers)
        engine_pid = engine.pid() or 0

        def series(label: str) -> None:
            for i in range(args.ticks + 1):
                cpu0, eng0, t0 = proc_ticks(os.getpid()), tree_ticks([engine_pid]), time.monotonic()
                tick = sample_all()
                took = time.monotonic() - t0
                cpu = (proc_ticks(os.getpid()) - cpu0) / CLK_TCK
                eng = (tree_ticks([engine_pid]) - eng0) / CLK_TCK
                name = f"{label} {'cold' if i == 0 else i}"
                log(f"{name}: {took:.2f} s, {tick.sampled} samples, {tick.missed} missed, "
                    f"CPU {cpu:.2f} s here, {eng:.2f} s dockerd")
                if i:
                    rows.append((label, took, tick.sampled, cpu, eng))
                time.sleep(1.0)

        series(f"{args.replicas} replicas")
        host_with(f"tcp://127.0.0.1:{port}", "tarpit", [uuid.uuid4().hex * 2 for _ in range(10)])
        series(f"{args.replicas} replicas + a silent host with 10")
    finally:
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
        with suppress(Exception):
            engine.remove_all_containers()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{os.cpu_count()} cores; load average {load_average()}")
    print("| series | tick median (s) | tick max (s) | samples | CPU here (s) | CPU dockerd (s) |")
    print("|---|---|---|---|---|---|")
    for label in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == label]
        print(f"| {label} | {med([r[1] for r in mine]):.2f} | {max(r[1] for r in mine):.2f} | "
              f"{med([r[2] for r in mine]):.0f} | {med([r[3] for r in mine]):.2f} | "
              f"{med([r[4] for r in mine]):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
