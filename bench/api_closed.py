"""Closed-loop throughput of the hot reads, for comparing two versions of the code quickly.

``python -m bench.api_closed`` starts the same stack and fleet as `bench.api` (Postgres,
Redis, ``moorage api`` at its defaults, worker and beat; 100 deployments, 4 with a running
replica) and runs Debian's ``wrk`` (``-t1``, 6 s after a 2 s warm-up) over ``/healthz`` at
20 connections, ``GET /v1/deployments/bench-000`` at 1 and 20, and the list of 100 at 4.
It prints requests per second and wrk's p50/p99 for each. Run it with another venv's
python to measure that venv's code (`MoorageStack` starts the ``moorage`` beside
``sys.executable``). The targets are `bench.api`'s (open loop); this only answers "how
much per request", which a saturated open-loop phase cannot.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.api import ENGINE_INDEX, make_fleet
from bench.harness import MoorageStack, log
from tests.support import dockerd

CASES = (("/healthz", 20), ("/v1/deployments/bench-000", 1), ("/v1/deployments/bench-000", 20),
         ("/v1/deployments?limit=100", 4))


def wrk(stack: MoorageStack, path: str, conns: int, seconds: int) -> str:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency",
         "-H", f"Authorization: Bearer {stack.token}", stack.url + path],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+(\S+)", out).group(1)
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return f"{rps:8.1f} rps  p50 {p50:>8}  p99 {p99:>8}  non-2xx {bad.group(1) if bad else 0}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=6, help="measured time per case")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured time per case")
    parser.add_argument("--keep-engine", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk (apt-get install wrk)")
    engine = dockerd.Engine(ENGINE_INDEX)
    dockerd.require_tools()
    started = not engine.is_up()
    engine.start()
    dockerd.build_test_images(engine)  # the fleet's image (a fresh engine has none)
    stack = MoorageStack(engine, Path(tempfile.mkdtemp(prefix="moorage-bench-api-closed-")))
    try:
        stack.start()
        make_fleet(stack, 100, 4)
        for path, conns in CASES:
            wrk(stack, path, conns, args.warmup)  # warm-up: pools, prepared statements, caches
            log(f"{path:28s} c={conns:<3d} {wrk(stack, path, conns, args.seconds)}")
    finally:
        stack.teardown()
        if started and not args.keep_engine:
            engine.stop()


if __name__ == "__main__":
    main()
