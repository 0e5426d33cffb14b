"""What keeps concurrent test processes out of each other's way on one machine.

Each process already has its own database, queue, token and sealing key (tests/conftest.py
makes them per process). Docker engines and the few fixed ports are machine-wide, so each
pytest-xdist worker shifts them: worker N by N strides, plus `MOORAGE_TEST_ENGINE_BASE`
(0 by default; 256 runs a second suite beside one at the defaults, e.g. another checkout's).
Test code names its engines and ports once, through these two functions; a plain `pytest`
(no xdist) is worker 0.

    ENGINES = tuple(map(engine_index, (51, 52)))
"""

from __future__ import annotations

import os

from tests.support.dockerd import MAX_INDEX

# Tests use engine indices 1..93; two workers fit in 1..254, and benchmarks' 101-106 lie
# between them.
ENGINE_STRIDE = 120
PORT_PER_INDEX = 10  # fixed ports (12_3xx) shift by 10 per engine index shifted


def worker_number() -> int:
    """0 for a plain run and for xdist's gw0, N for gwN."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def _shift() -> int:
    return int(os.environ.get("MOORAGE_TEST_ENGINE_BASE", "0")) + worker_number() * ENGINE_STRIDE


def process_slot() -> int:
    """A small number no other concurrent test process has (its shift in strides)."""
    return _shift() // ENGINE_STRIDE


def engine_index(index: int) -> int:
    """This process's engine for the suite's engine number ``index``."""
    shifted = index + _shift()
    if not 1 <= shifted <= MAX_INDEX:
        raise RuntimeError(f"engine {index} shifted by {_shift()} is outside 1..{MAX_INDEX}: "
                           "fewer xdist workers, or another MOORAGE_TEST_ENGINE_BASE")
    return shifted


def fixed_port(port: int) -> int:
    """This process's copy of a fixed port (one that must stay the same across restarts)."""
    return port + _shift() * PORT_PER_INDEX
