"""Loopback ports for the servers tests start, out of every other allocator's way.

A port the kernel hands out for ``bind(port 0)`` comes from the ephemeral range, and
the same range is where dockerd publishes a container's unnamed ports and where every
outgoing connection takes its source port. Closing the probe socket and starting a
server on that port later leaves a window in which any of those can take it: in one CI
run a test container was published on the port just picked for an API, and the API's
readiness check was answered by busybox's httpd. Ports here come from below the
ephemeral range and below Moorage's own endpoint range (20000-29999, which the e2e
edges listen on), and below the fixed ports (12_3xx and their shifted copies,
tests/support/parallel.py), in a block of their own per test process, handed out in turn.
"""

from __future__ import annotations

import itertools
import socket
import threading

from tests.support.parallel import process_slot

# Below the fixed ports, the endpoint range (the setting's default) and the ephemeral range.
LOW, HIGH = 10000, 12000
BLOCKS = 8  # one per concurrent test process, wrapping past that many


def _block() -> range:
    size = (HIGH - LOW) // BLOCKS
    start = LOW + (process_slot() % BLOCKS) * size
    return range(start, start + size)


_BLOCK = _block()
_next = itertools.cycle(_BLOCK)
_lock = threading.Lock()


def free_port() -> int:
    """A loopback TCP port nothing listens on now, and that no kernel or dockerd
    allocation will take before the caller binds it."""
    with _lock:
        for _ in range(len(_BLOCK)):
            port = next(_next)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port left in this worker's block")
