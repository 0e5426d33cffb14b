"""A tracing worker for benchmarks only (never for production, never imported by app/).

``python -m celery -A moorage_trace:celery worker ...`` (this file, copied into the
stack's work directory as ``moorage_trace.py`` and run from there, so that ``app`` is the
one installed in the venv under test, old code or new) runs Moorage's own worker
(``workers.celery_app``, unchanged) with timestamps written around what a reconcile pass
does: each pass and its phases (load, observe, probe, record, act, record the outcomes),
each health probe (container, result) and each engine action (create, start, remove).
One JSON line per record, appended to the file named by ``BENCH_TRACE_FILE``; the time is
``time.time()`` (the engine's clock, the same machine). The wrappers only call through:
what the worker does, and in which order, is unchanged. ``bench.rollout --trace`` uses it
to say where a rolling update's time goes between the engine's steps.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from typing import Any

_lock = threading.Lock()
_path = os.environ.get("BENCH_TRACE_FILE", "trace.jsonl")


def emit(ev: str, **fields: Any) -> None:
    line = json.dumps({"t": time.time(), "pid": os.getpid(), "ev": ev, **fields}, default=str)
    with _lock, open(_path, "a") as f:
        f.write(line + "\n")


def _timed(module: Any, name: str, ev: str, describe=None) -> None:
    inner = getattr(module, name)

    @functools.wraps(inner)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.time()
        result = inner(*args, **kwargs)
        extra = describe(args, result) if describe else {}
        emit(ev, start=t0, **extra)
        return result

    setattr(module, name, wrapper)


def _install() -> None:
    import app.services.reconciler.act as act
    import app.services.reconciler.loop as loop
    import app.services.reconciler.observe as observe
    from app.reconcile.types import Create, Remove, Start

    def action(args: Any, outcome: Any) -> dict[str, Any]:
        a = args[1]
        if isinstance(a, Create):
            kind, name = "create", a.name
        elif isinstance(a, Start):
            kind, name = "start", a.container.name
        elif isinstance(a, Remove):
            kind, name = "remove", a.container.name
        else:
            kind, name = type(a).__name__, ""
        return {"kind": kind, "name": name, "reason": getattr(a, "reason", ""),
                "cid": outcome.container_id or getattr(getattr(a, "container", None),
                                                       "container_id", None),
                "error": str(outcome.error) if outcome.error else None}

    def probe(args: Any, result: Any) -> dict[str, Any]:
        return {"cid": args[1], "ok": result.ok}

    def wait(args: Any, result: Any) -> dict[str, Any]:
        return {"wait": result}

    def recorded(args: Any, result: Any) -> dict[str, Any]:
        return {"actions": len(result.plan.actions), "wait": result.wait_s}

    _timed(act, "run_action", "action", action)
    _timed(observe, "probe_container", "probe", probe)
    _timed(loop.Reconciler, "_pass", "pass", wait)
    for name, ev in (("load", "load"), ("observe", "observe"), ("probe", "probes"),
                     ("execute", "act"), ("record_outcomes", "record_outcomes")):
        _timed(loop, name, ev)
    _timed(loop, "record_pass", "record_pass", recorded)


_install()

from workers.celery_app import celery  # noqa: E402  (after the patches, before any fork)

__all__ = ["celery", "emit"]
