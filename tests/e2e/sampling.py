"""Watch a deployment from outside while Moorage changes it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import docker
import httpx


@dataclass
class Sampler:
    """Every 100 ms: how many containers exist, and how many answer /healthz.

    Every container on an engine counts, whatever its state (created, running, restarting,
    exited): each holds a name, and each counts toward ``replicas + max_surge``.

    A ready count must be of one moment: the running ones are probed all at once, and
    the count is kept only if the engines list the same running containers after the
    probes as before. (A sweep that probed a new replica before it was ready and an old
    one after it was, rightly, stopped would count neither, though at every moment
    enough were ready.) A sample whose count is not kept has ``None`` for it."""

    engine_urls: list[str]
    deployment: str
    samples: list[tuple[int, int | None]] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._apis = [docker.APIClient(base_url=url) for url in self.engine_urls]
        # Generous: on a loaded machine a healthy replica may answer late, and a slow
        # answer must not read as an unready replica.
        self._http = httpx.Client(timeout=2.0)
        self._probes = ThreadPoolExecutor(8, thread_name_prefix="sampler-probe")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _ready(self, container: dict) -> bool:
        networks = container.get("NetworkSettings", {}).get("Networks", {})
        for net in networks.values():
            if ip := net.get("IPAddress"):  # a container this test made, on our own bridge
                try:
                    return self._http.get(f"http://{ip}:8080/healthz").status_code == 200
                except httpx.HTTPError:
                    return False
        return False

    def _list(self) -> list[dict]:
        listed = []
        for api in self._apis:
            try:
                listed += api.containers(
                    all=True, filters={"label": f"moorage.deployment={self.deployment}"})
            except docker.errors.DockerException:
                pass  # an engine this test stopped
        return listed

    @staticmethod
    def _running(listed: list[dict]) -> set[str]:
        return {c["Id"] for c in listed if c["State"] == "running"}

    def _run(self) -> None:
        while not self._stop.is_set():
            # Stamped when listed: the probes after it may take a while.
            stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
            listed = self._list()
            running = [c for c in listed if c["State"] == "running"]
            ready: int | None = sum(self._probes.map(self._ready, running))
            if self._running(self._list()) != {c["Id"] for c in running}:
                ready = None  # they changed while probed: not one moment
            self.samples.append((len(listed), ready))
            self.times.append(stamp)
            self._stop.wait(0.1)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._probes.shutdown(wait=True)
        for api in self._apis:
            api.close()
        self._http.close()

    @property
    def most(self) -> int:
        """The most containers seen at once."""
        return max((s[0] for s in self.samples), default=0)

    def assert_bounds(self, replicas: int, max_surge: int, max_unavailable: int) -> None:
        assert len(self.samples) > 10, self.samples
        too_many = [s for s in self.samples if s[0] > replicas + max_surge]
        counted = [s for s in self.samples if s[1] is not None]
        # Changes come about once a second and a sample takes a few tens of ms: most count.
        assert len(counted) > len(self.samples) / 2, self.samples
        too_few = [(t, s) for t, s in zip(self.times, self.samples, strict=False)
                   if s[1] is not None and s[1] < replicas - max_unavailable]
        assert not too_many, f"more than {replicas + max_surge} containers: {too_many[:5]}"
        assert not too_few, f"fewer than {replicas - max_unavailable} ready: {too_few[:5]}"
