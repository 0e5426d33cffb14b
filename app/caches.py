"""A bounded, thread-safe map for the few things a process keeps between passes.

Every process-global cache in Moorage is one of these (or a fixed array): a long-lived
worker that meets many hosts and images must not grow without end, and its pool threads
read and write the same caches at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """Least recently used entries go first once ``maxsize`` is reached; ``on_evict`` is
    called (outside the lock) with each value pushed out."""

    def __init__(self, maxsize: int, on_evict: Callable[[V], None] | None = None) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._on_evict = on_evict

    def get(self, key: K, default: V | None = None) -> V | None:
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value for ``key``, made (under the lock, so once) when missing."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            value = self._data[key] = make()
            evicted = self._trim()
        self._evict(evicted)
        return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            evicted = self._trim()
        self._evict(evicted)

    def pop(self, key: K, default: V | None = None) -> V | None:
        with self._lock:
            return self._data.pop(key, default)

    def pop_where(self, keep: Callable[[K], bool]) -> list[V]:
        """Remove and return every value whose key ``keep`` rejects."""
        with self._lock:
            gone = [k for k in self._data if not keep(k)]
            return [self._data.pop(k) for k in gone]

    def clear(self) -> None:
        with self._lock:
            values = list(self._data.values())
            self._data.clear()
        self._evict(values)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def _trim(self) -> list[V]:
        evicted = []
        while len(self._data) > self.maxsize:
            evicted.append(self._data.popitem(last=False)[1])
        return evicted

    def _evict(self, values: list[V]) -> None:
        if self._on_evict is not None:
            for value in values:
                self._on_evict(value)
