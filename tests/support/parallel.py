"""What keeps the suite's pytest-xdist workers out of each other's way on one machine.

Each worker process already has its own database, queue, token and sealing key
(tests/conftest.py makes them per process). Docker engines and the few fixed ports are
machine-wide, so worker N shifts them by N strides; test code names its engines and ports
once, through these two functions, and a plain `pytest` (no xdist) is worker 0.

    ENGINES = tuple(map(engine_index, (51, 52)))
"""

from __future__ import annotations

import os

# Tests use engine indices 1..93; two workers fit in the engines' 1..254, and benchmarks'
# 101-106 lie between them.
ENGINE_STRIDE = 120
PORT_STRIDE = 1000


def worker_number() -> int:
    """0 for a plain run and for xdist's gw0, N for gwN."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def engine_index(index: int) -> int:
    """This worker's engine for the suite's engine number ``index``."""
    shifted = index + worker_number() * ENGINE_STRIDE
    if shifted > 254:
        raise RuntimeError(f"engine {index} on xdist worker {worker_number()} is past 254: "
                           "run the suite with at most 2 workers")
    return shifted


def fixed_port(port: int) -> int:
    """This worker's copy of a fixed port (one that must stay the same across restarts)."""
    return port + worker_number() * PORT_STRIDE
