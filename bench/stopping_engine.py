"""What a stopping dockerd answers, on a connection opened before SIGTERM and on new ones.

    flock /tmp/moorage-heavy.lock .venv/bin/python -m bench.stopping_engine [--engine 21]

One private engine (``Engine(21)`` by default, a bench index) with two test-image
containers; a Docker SDK client asks ``/info`` once, so its pool keeps that connection;
then SIGTERM, and every 0.1 s until dockerd has exited, ``/info`` on the kept-alive
client and on a new one. Prints each change of (old answer, new answer, dockerd alive),
with times from the signal. On dockerd 20.10 (2026-12-01): new connections fail at once
(its socket is gone), the old one is answered for ~1.2 s, the process lives ~2.7 s. That
is why the heartbeat asks a suspect host on a new connection (app.services.hosts).
"""

from __future__ import annotations

import argparse
import os
import signal
import time

import docker

from tests.support import dockerd


def probe(client_of, t0: float) -> tuple[float, float, str]:
    start = time.monotonic()
    try:
        client = client_of()
        client.info()
        answer = "answers"
    except Exception as exc:  # what the heartbeat would have seen
        answer = f"{type(exc).__name__}: {str(exc)[:70]}"
    return start - t0, time.monotonic() - start, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", type=int, default=21)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    eng = dockerd.Engine(args.engine)
    eng.start()
    dockerd.build_test_images(eng)
    eng.remove_all_containers()
    for _ in range(2):
        eng.docker("run", "-d", dockerd.WEB_V1)
    old = docker.APIClient(base_url=eng.url, timeout=1.5)
    old.info()  # this connection stays in the client's pool
    pid = eng.pid()
    assert pid is not None
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    last = None
    while time.monotonic() - t0 < args.seconds:
        alive = os.path.exists(f"/proc/{pid}")
        (at, took, kept), (_, _, new) = probe(lambda: old, t0), probe(
            lambda: docker.APIClient(base_url=eng.url, timeout=1.5, version="1.41"), t0)
        if (kept, new, alive) != last:
            print(f"t={at:5.2f}s kept-alive: {kept} ({took:.2f}s) | new: {new} | "
                  f"dockerd alive: {alive}")
            last = (kept, new, alive)
        if not alive:
            break
        time.sleep(0.1)
    eng.stop()  # whatever is left of it


if __name__ == "__main__":
    main()
