"""The database's own CPU for one deployment view (the statement behind GET one), per
plan cache mode.

``python bench/api_cost.py --keep-db`` leaves a database with `bench.api`'s fleet; then
``python -m bench.view_plan_cost postgresql://postgres@127.0.0.1/moorage_cost_x``
compiles this checkout's view statement, runs it prepared ``-n`` times on one connection
per plan cache mode (``auto``, the default: Postgres chooses between a custom plan per
execution and a generic one; ``force_generic_plan``: always the generic), and prints
the server backend's CPU per execution (from /proc, so the server must be local) and the
wall time per round trip.
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg


def backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a libpq URL of a database with bench.api's fleet")
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--name", default="bench-000")
    args = parser.parse_args()

    from sqlalchemy.dialects import postgresql

    from app.repositories import deployments as deployment_repo
    from app.services.usage import lookback_s

    compiled = deployment_repo._VIEW_BY_NAME.compile(dialect=postgresql.dialect())  # noqa: SLF001
    params = {**compiled.construct_params(_check=False), "view_name": args.name,
              "usage_since": datetime.now(UTC) - timedelta(seconds=lookback_s())}
    sql = re.sub(r"%\((\w+)\)s", r"%(\1)s", str(compiled))
    for mode in ("auto", "force_generic_plan"):
        with psycopg.connect(args.url, autocommit=True,
                             options=f"-c TimeZone=UTC -c plan_cache_mode={mode}") as conn:
            pid = conn.info.backend_pid
            for _ in range(20):  # past psycopg's prepare threshold and Postgres's 5 custom plans
                conn.execute(sql, params, prepare=True).fetchall()
            cpu0, t0 = backend_cpu_s(pid), time.perf_counter()
            for _ in range(args.n):
                conn.execute(sql, params, prepare=True).fetchall()
            wall = (time.perf_counter() - t0) / args.n
            cpu = (backend_cpu_s(pid) - cpu0) / args.n
        print(f"{mode:20} backend CPU {cpu * 1e3:.3f} ms/view, round trip {wall * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
