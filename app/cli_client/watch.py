"""Waiting for rollouts, driven by each deployment's event stream (SSE), not by polling.

One thread per deployment reads ``GET /v1/deployments/{name}/events`` as an event
stream and hands events to the waiting loop; an event of the watched rollout (or one
after it started) makes the loop read the rollout again for its counts and state. On a
terminal show, it prints a live progress display per rollout; elsewhere (CI logs) a
plain line per change.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import EventSource
from moorage_client.api.deployments import get_deployment, list_events
from moorage_client.api.rollouts import get_rollout
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from app.cli_client import render
from app.cli_client.connection import Api
from app.cli_client.errors import CliError, Exit

QUIET_REFRESH_S = 30.0  # a safety net only: with no event for this long, read the rollout anyway
RECONNECT_S = 1.0


@dataclass
class Watched:
    deployment: str
    rollout: dict
    outcome: Exit | None = None
    last_event: str = ""
    shown: str = ""  # the last plain line printed, so a line is printed only on change
    task: Any = None

    @property
    def done(self) -> bool:
        return self.outcome is not None


@dataclass
class _Listener:
    """Reads one deployment's event stream in a thread, reconnecting from the last id."""

    api: Api
    deployment: str
    inbox: queue.Queue
    stop: threading.Event = field(default_factory=threading.Event)
    last_id: int | None = None

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name=f"events-{self.deployment}").start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                extra = {"last_event_id": str(self.last_id)} if self.last_id is not None else {}
                with self.api.stream(list_events, self.deployment, accept="text/event-stream",
                                     limit=500, **extra) as response:
                    if response.status_code == 404:
                        self.inbox.put((self.deployment, "gone", None))
                        return
                    self.api.check(response)
                    self.inbox.put((self.deployment, "connected", None))
                    for sse in EventSource(response).iter_sse():
                        if self.stop.is_set():
                            return
                        if sse.id:
                            self.last_id = int(sse.id)
                        self.inbox.put((self.deployment, "event", json.loads(sse.data)))
                self.inbox.put((self.deployment, "gone", None))  # the stream ends with the deployment
                return
            except CliError as exc:  # a problem answer (401, 403): no use retrying
                self.inbox.put((self.deployment, "refused", exc.message))
                return
            except (httpx.HTTPError, ValueError) as exc:
                self.inbox.put((self.deployment, "error", str(exc) or type(exc).__name__))
                self.stop.wait(RECONNECT_S)


def watch(api: Api, items: list[tuple[str, dict]], timeout: float | None, console: Console,
          live: bool | None = None) -> Exit:
    """Wait for each (deployment, rollout) to end; the worst outcome: 1 if any failed or
    was rolled back, else 2 if any timed out, else 0."""
    watched = [Watched(name, rollout) for name, rollout in items]
    live = console.is_terminal if live is None else live
    inbox: queue.Queue = queue.Queue()
    listeners = {w.deployment: _Listener(api, w.deployment, inbox) for w in watched}
    deadline = None if timeout is None else time.monotonic() + timeout
    progress = _progress(console) if live else None
    try:
        if progress is not None:
            progress.start()
            for w in watched:
                w.task = progress.add_task(w.deployment, total=1, counts="", step="", event="")
        for w in watched:
            _settle(api, w, console, progress)
        for name, listener in listeners.items():
            if any(w.deployment == name and not w.done for w in watched):
                listener.start()
        warned: set[str] = set()
        while not all(w.done for w in watched):
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            wait = QUIET_REFRESH_S if remaining is None else min(remaining, QUIET_REFRESH_S)
            try:
                name, kind, payload = inbox.get(timeout=wait)
            except queue.Empty:
                for w in watched:
                    if not w.done:
                        _refresh(api, w, console, progress)
                continue
            for w in (w for w in watched if w.deployment == name and not w.done):
                if kind == "event":
                    if _concerns(w, payload):
                        w.last_event = f"{payload['reason']}: {payload.get('message', '')}"
                        if progress is None:
                            console.print(f"{name}: {render.event_line(payload)}", markup=False,
                                          highlight=False)
                        _refresh(api, w, console, progress)
                elif kind in ("connected", "gone"):
                    _refresh(api, w, console, progress, gone=kind == "gone")
                elif kind == "refused":
                    raise CliError(f"{name}: event stream refused: {payload}")
                elif kind == "error" and name not in warned:
                    warned.add(name)
                    console.print(f"{name}: event stream interrupted ({payload}); reconnecting",
                                  style="yellow", markup=False)
        for w in watched:
            if not w.done:
                w.outcome = Exit.TIMED_OUT
                console.print(f"{w.deployment}: timed out after {timeout:g}s waiting for rollout "
                              f"{str(w.rollout['id'])[:8]} ({render.progress_text(w.rollout)}; "
                              f"{render.rollout_step(w.rollout)})", style="red", markup=False)
    finally:
        for listener in listeners.values():
            listener.stop.set()
        if progress is not None:
            progress.stop()
    outcomes = {w.outcome for w in watched}
    if Exit.FAILED in outcomes:
        return Exit.FAILED
    return Exit.TIMED_OUT if Exit.TIMED_OUT in outcomes else Exit.SUCCEEDED


def _concerns(w: Watched, event: dict) -> bool:
    """Events of the watched rollout, and others since it started (a newer rollout's
    start means it was superseded); the stream begins with older history."""
    if event.get("rollout_id") is not None and str(event["rollout_id"]) == str(w.rollout["id"]):
        return True
    when, started = render.parse_time(event.get("time")), render.parse_time(w.rollout.get("created_at"))
    return when is not None and started is not None and when >= started


def _refresh(api: Api, w: Watched, console: Console, progress: Progress | None, gone: bool = False) -> None:
    try:
        w.rollout = api.call(get_rollout, w.rollout["id"])
    except CliError:
        if not gone:
            raise
        # The deployment is gone, and its rollouts with it: only a delete ends so.
        w.rollout = {**w.rollout, "state": "succeeded" if w.rollout["kind"] == "delete" else "failed",
                     "message": None if w.rollout["kind"] == "delete" else "the deployment was deleted"}
    _settle(api, w, console, progress)


def _settle(api: Api, w: Watched, console: Console, progress: Progress | None) -> None:
    """Show the rollout as it is now, and end the watch if it has ended."""
    r = w.rollout
    if r["state"] == "superseded":
        successor = (api.call(get_deployment, w.deployment).get("current_rollout") or {})
        if successor and str(successor["id"]) != str(r["id"]):
            console.print(f"{w.deployment}: rollout {str(r['id'])[:8]} was superseded by "
                          f"{successor['kind']} rollout {str(successor['id'])[:8]}; following it",
                          markup=False)
            w.rollout = successor
            _settle(api, w, console, progress)
            return
    _show(w, console, progress)
    if r["state"] in render.TERMINAL:
        w.outcome = Exit.SUCCEEDED if r["state"] == "succeeded" else Exit.FAILED
        style = "green" if w.outcome == Exit.SUCCEEDED else "red"
        console.print(render.outcome_text(w.deployment, r), style=style, markup=False, highlight=False)
        if r["state"] == "rolled_back":
            current = api.call(get_deployment, w.deployment).get("current_rollout") or {}
            if current and str(current["id"]) != str(r["id"]):
                console.print(f"{w.deployment}: {current['kind']} rollout {str(current['id'])[:8]} to "
                              f"revision {current['to_revision']} is {current['state'].replace('_', ' ')}",
                              markup=False)


def _show(w: Watched, console: Console, progress: Progress | None) -> None:
    r, p = w.rollout, w.rollout.get("progress") or {}
    if progress is not None:
        # The bar fills with replicas both updated and ready (`ready` alone counts old ones too).
        desired = max(1, p.get("desired", 0))
        done = min(desired, p.get("updated", 0), p.get("ready", 0))
        progress.update(w.task, total=desired, completed=done,
                        description=f"{w.deployment} {r['kind']}",
                        counts=render.progress_text(r), step=render.rollout_step(r),
                        event=w.last_event[:70])
        return
    line = f"{w.deployment}: {r['kind']} rollout {str(r['id'])[:8]} {r['state']}: " \
           f"{render.progress_text(r)}; {render.rollout_step(r)}"
    if line != w.shown and r["state"] not in render.TERMINAL:
        w.shown = line
        console.print(line, markup=False, highlight=False)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(bar_width=20),
        TextColumn("{task.fields[counts]}"), TextColumn("[bold]{task.fields[step]}"),
        TextColumn("[dim]{task.fields[event]}"),
        console=console, transient=False, refresh_per_second=8,
    )


RELEASE_POLL_S = 5  # the server holds each read this long unless the release ends first


def watch_release(api: Api, release: dict, timeout: float | None, console: Console) -> Exit:
    """Wait for a stack's release to end, a line each time its state or message changes.
    Read with the server's own wait (``GET /v1/rollouts/{id}?wait=``: it answers as soon as
    the release ends), so an ended release is seen at once without polling fast."""
    deadline = None if timeout is None else time.monotonic() + timeout
    stack, shown = release.get("stack", "stack"), ""
    while True:
        line = f"{stack}: release {str(release['id'])[:8]} {release['state']}" + (
            f": {release['message']}" if release.get("message") else "")
        if line != shown:
            console.print(line, markup=False, highlight=False)
            shown = line
        if release["state"] in render.TERMINAL:
            return Exit.SUCCEEDED if release["state"] == "succeeded" else Exit.FAILED
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            console.print(f"{stack}: timed out waiting for release {str(release['id'])[:8]}",
                          markup=False, highlight=False)
            return Exit.TIMED_OUT
        wait = RELEASE_POLL_S if remaining is None else max(1, min(RELEASE_POLL_S, int(remaining)))
        release = api.call(get_rollout, release["id"], wait=wait)
