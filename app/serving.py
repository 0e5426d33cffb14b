"""The API in several processes, each accepting on a listening socket of its own.

uvicorn's own workers share one socket, and each process's loop accepts every connection
pending when it wakes, so connections that arrive together land mostly on one process:
64 opened at once split 15/49, 18/46 and 21/43 between two, and 4 all went to one, which
then ran at 100 % of its core while the other idled. Here every worker binds its own
socket with ``SO_REUSEPORT`` and the kernel spreads connections over them by hash.

The supervisor holds the port (bound, never listening: the kernel hands connections only
to listening sockets), starts the workers, starts one again when it dies, and on SIGTERM
or SIGINT stops them all, as uvicorn's own supervisor does.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import signal
import socket
import sys
import time
from typing import Any

import uvicorn

log = logging.getLogger(__name__)
APP = "app.main:serve"
RESTART_PAUSE_S = 1.0  # a worker that dies at once is not started again in a tight loop
STOP_TIMEOUT_S = 30.0  # then a worker still draining its requests is killed
_PR_SET_PDEATHSIG = 1


def run(host: str, port: int, workers: int, **options: Any) -> None:
    """Serve ``app.main:serve`` in ``workers`` processes; ``options`` are uvicorn's."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **options)
        return
    held = listening_socket(host, port)  # fails here, once, if the port is taken
    port = held.getsockname()[1]  # port 0: the one the system chose, for every worker
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, as uvicorn's

    def start(index: int) -> multiprocessing.process.BaseProcess:
        process = spawn.Process(target=_worker, args=(host, port, options),
                                name=f"moorage-api-{index}")
        process.start()
        return process

    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    log.info("API on http://%s:%d in %d processes", host, port, workers)
    processes = [start(i) for i in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(processes):
                if process.exitcode is not None and not stopping:
                    log.warning("API process %d (pid %s) exited with %s; starting another",
                                i, process.pid, process.exitcode)
                    time.sleep(RESTART_PAUSE_S)
                    processes[i] = start(i)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests it has
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        held.close()


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    if sys.platform == "linux":  # a supervisor killed outright takes its workers along
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])
