"""A steady stream of HTTP requests at one URL, recording every answer (tests and bench).

    with Traffic("http://127.0.0.1:20001/version", rps=60) as t:
        ...                                 # change the deployment
    assert not t.failures, t.failures[:5]

Each request opens a connection of its own (``Connection: close``): what is measured is
whether the endpoint answers, not a client's keep-alive race with a server closing an
idle connection (which a real client retries on a new connection).

A GET whose connection is closed before any byte of an answer (``RemoteProtocolError``:
"Server disconnected without sending a response") is sent once more, as browsers and
HTTP libraries do for an idempotent request (RFC 9110, 9.2.2): the proxy's graceful
reload can close a connection it accepted but had not read yet. Such retries are counted
(``retried``) and reported, never hidden; a second failure is a failure.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Answer:
    at: float  # monotonic, when sent
    latency_s: float
    status: int | None  # None: no HTTP answer at all
    body: str  # the body, or the error


@dataclass
class Traffic:
    url: str
    rps: float = 60.0
    workers: int = 3
    timeout_s: float = 10.0
    answers: list[Answer] = field(default_factory=list)
    retried: int = 0  # GETs sent again after a connection closed before any answer
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(self.workers)]

    def _run(self, index: int) -> None:
        period = self.workers / self.rps
        next_at = time.monotonic() + index * period / self.workers
        with httpx.Client(timeout=self.timeout_s, headers={"Connection": "close"},
                          limits=httpx.Limits(max_keepalive_connections=0)) as client:
            while not self._stop.is_set():
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                next_at = max(next_at + period, time.monotonic() - period)
                sent = time.monotonic()
                answer = self._get(client, sent)
                if answer.status is None and answer.body.startswith("RemoteProtocolError"):
                    with self._lock:
                        self.retried += 1
                    answer = self._get(client, sent)
                with self._lock:
                    self.answers.append(answer)

    def _get(self, client: httpx.Client, sent: float) -> Answer:
        try:
            r = client.get(self.url)
            return Answer(sent, time.monotonic() - sent, r.status_code, r.text.strip())
        except httpx.HTTPError as exc:
            return Answer(sent, time.monotonic() - sent, None, f"{type(exc).__name__}: {exc}")

    def __enter__(self) -> Traffic:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.timeout_s + 5)

    # -- what was seen ---------------------------------------------------------------

    @property
    def ordered(self) -> list[Answer]:
        with self._lock:
            return sorted(self.answers, key=lambda a: a.at)

    @property
    def failures(self) -> list[Answer]:
        return [a for a in self.ordered if a.status != 200]

    @property
    def rate(self) -> float:
        answers = self.ordered
        if len(answers) < 2:
            return 0.0
        return (len(answers) - 1) / (answers[-1].at - answers[0].at)

    def bodies(self) -> list[str]:
        """The bodies of successful answers in the order they were sent, runs collapsed."""
        out: list[str] = []
        for a in self.ordered:
            if a.status == 200 and (not out or out[-1] != a.body):
                out.append(a.body)
        return out

    def summary(self) -> str:
        counts = Counter(a.body if a.status == 200 else f"{a.status}: {a.body[:80]}" for a in self.ordered)
        retried = f", {self.retried} retried once after a connection closed unanswered" if self.retried else ""
        return f"{len(self.answers)} requests at {self.rate:.0f} rps: {dict(counts)}{retried}"
