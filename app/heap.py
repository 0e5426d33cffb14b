"""The garbage collector in long-running processes (the API's, the worker's and beat).

After startup a process holds about 150,000 objects that live as long as it does:
modules, the app and its routes, pydantic's schemas, SQLAlchemy's mappers and compiled
statements. Every full collection walked all of them again, stopping the process for
150–300 ms on this project's 2-core machine: at 500 requests a second, a hundred
requests waited behind each one (bench/api_cost.py --gc counts the pauses).
``gc.freeze`` moves them to a generation the collector never walks. It is also what
CPython recommends before a fork (the Celery worker's children): the frozen objects'
pages are not written to by the collector, so they stay shared.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect what startup left as garbage, then freeze everything still alive. Call it
    once a process has finished starting; objects made later are collected as usual."""
    gc.collect()
    gc.freeze()
