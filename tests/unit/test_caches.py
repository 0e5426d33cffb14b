"""The bounded cache every process-global cache uses."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from app.caches import BoundedCache


@given(st.lists(st.tuples(st.sampled_from(["get", "put"]), st.integers(0, 20)), max_size=200))
def test_never_above_its_bound_and_evicts_least_recent(ops) -> None:
    evicted: list[int] = []
    cache: BoundedCache[int, int] = BoundedCache(5, on_evict=evicted.append)
    model: list[int] = []  # keys, least recent first
    for op, key in ops:
        if op == "put":
            cache.put(key, key)
            if key in model:
                model.remove(key)
            model.append(key)
            while len(model) > 5:
                model.pop(0)
        elif cache.get(key) is not None:
            model.remove(key)
            model.append(key)
        assert len(cache) <= 5
    assert all(cache.get(k) == k for k in list(model))
    assert len(cache) == len(model)


def test_get_or_make_makes_once_under_contention() -> None:
    made = []
    cache: BoundedCache[str, object] = BoundedCache(10)
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        cache.get_or_make("k", lambda: made.append(1) or object())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert made == [1]


def test_pop_where_and_clear_hand_back_what_they_drop() -> None:
    closed: list[str] = []
    cache: BoundedCache[tuple[str, int], str] = BoundedCache(10, on_evict=closed.append)
    for host in ("a", "b"):
        for timeout in (1, 2):
            cache.put((host, timeout), f"{host}{timeout}")
    assert sorted(cache.pop_where(lambda key: key[0] != "a")) == ["a1", "a2"]
    cache.clear()
    assert sorted(closed) == ["b1", "b2"] and len(cache) == 0
