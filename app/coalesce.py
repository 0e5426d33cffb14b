"""Concurrent reads that share a round trip, and still see every write committed before
they arrived.

A ``Coalescer`` gathers the keys asked for while its previous fetch is in flight and
fetches them together, in one call, once that fetch is done. A request therefore never
joins a fetch that started before it arrived: what it is answered with was read after it
came in, so a write acknowledged (committed) before a GET was sent is in that GET's
answer, whichever process took the write. Under load, a process makes one fetch at a
time and each serves every request that came in during the last; with no load, a fetch
starts as soon as its request arrives (one turn of the event loop later).

This is the DataLoader pattern, or a database's group commit turned to reads.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Loop(Generic[K, V]):
    """One event loop's state: futures are bound to their loop."""

    waiting: dict[K, asyncio.Future[V | None]] = field(default_factory=dict)  # not yet fetched
    runner: asyncio.Task[None] | None = None


class Coalescer(Generic[K, V]):
    """``await get(key)``: ``fetch(keys)``'s value for ``key``, or None where it has none.

    ``fetch`` is called with at most ``max_batch`` distinct keys, one call at a time per
    event loop. If it raises, every request of its batch gets the exception."""

    def __init__(self, fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
                 *, max_batch: int = 100) -> None:
        self._fetch = fetch
        self._max_batch = max_batch
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop[K, V]] = \
            weakref.WeakKeyDictionary()

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _Loop()
        future = state.waiting.get(key)
        if future is None:
            future = state.waiting[key] = loop.create_future()
            if state.runner is None:
                state.runner = loop.create_task(self._run(state))
        # Shielded: a request that goes away (its client disconnected) cancels its own
        # wait, not the answer the others of its batch are waiting for.
        return await asyncio.shield(future)

    async def _run(self, state: _Loop[K, V]) -> None:
        try:
            while state.waiting:
                keys = list(state.waiting)[:self._max_batch]
                batch = {k: state.waiting.pop(k) for k in keys}
                try:
                    found = await self._fetch(keys)
                except asyncio.CancelledError:
                    for future in batch.values():
                        future.cancel()
                    raise
                except Exception as exc:
                    for future in batch.values():
                        if not future.done():
                            future.set_exception(exc)
                            future.add_done_callback(_retrieved)
                    continue
                for key, future in batch.items():
                    if not future.done():
                        future.set_result(found.get(key))
        finally:
            state.runner = None
            # Cancelled (the loop is closing) with requests still waiting: they end too.
            for future in state.waiting.values():
                future.cancel()
            state.waiting.clear()


def _retrieved(future: asyncio.Future) -> None:
    # Every waiter may have gone; the exception is theirs, not the loop's to report.
    if not future.cancelled():
        future.exception()
