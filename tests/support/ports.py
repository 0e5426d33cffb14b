"""Loopback ports for the servers tests start, out of every other allocator's way.

A port the kernel hands out for ``bind(port 0)`` comes from the ephemeral range, and
the same range is where dockerd publishes a container's unnamed ports and where every
outgoing connection takes its source port. Closing the probe socket and starting a
server on that port later leaves a window in which any of those can take it: in one CI
run a test container was published on the port just picked for an API, and the API's
readiness check was answered by busybox's httpd. Ports here come from below the
ephemeral range and below Moorage's own endpoint range (20000-29999, which the e2e
edges listen on), in a block of their own per xdist worker, handed out in turn.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from pathlib import Path

# Below the endpoint range (the setting's default) and the kernel's ephemeral range.
LOW, HIGH = 10000, 20000
BLOCKS = 8  # one per xdist worker, wrapping past that many


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _block() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) % BLOCKS if worker.isdigit() else 0
    high = min(HIGH, _ephemeral_floor())
    size = (high - LOW) // BLOCKS
    start = LOW + index * size
    return range(start, start + size)


_next = itertools.cycle(_block())
_lock = threading.Lock()


def free_port() -> int:
    """A loopback TCP port nothing listens on now, and that no kernel or dockerd
    allocation will take before the caller binds it."""
    with _lock:
        for _ in range(len(_block())):
            port = next(_next)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port left in this worker's block")
