"""Reads that share a round trip: each answer is the fetch's own, and was read after its
request arrived (so a write committed before a request is in its answer)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.coalesce import Coalescer


class Store:
    """A key-value store whose reads take a turn of the loop or more, with a clock of
    writes: each fetch records the keys it read and the write count it read at."""

    def __init__(self) -> None:
        self.data: dict[str, int] = {}
        self.writes = 0
        self.fetches: list[list[str]] = []

    def write(self, key: str, value: int) -> None:
        self.data[key] = value
        self.writes += 1

    async def fetch(self, keys: list[str]) -> dict[str, tuple[int, int]]:
        self.fetches.append(keys)
        at = self.writes  # the read's snapshot: taken when the fetch starts
        found = {k: (self.data[k], at) for k in keys if k in self.data}
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return found


def run(coro):
    return asyncio.run(coro)


def test_one_request_alone_is_fetched_at_once_and_a_missing_key_is_none():
    store = Store()
    store.write("a", 1)
    reads = Coalescer(store.fetch)

    async def main():
        return await reads.get("a"), await reads.get("nope")

    assert run(main()) == ((1, 1), None)
    assert store.fetches == [["a"], ["nope"]]


def test_requests_arriving_during_a_fetch_share_the_next_one():
    store = Store()
    for k in "abc":
        store.write(k, ord(k))
    reads = Coalescer(store.fetch)

    async def main():
        first = asyncio.ensure_future(reads.get("a"))
        await asyncio.sleep(0)  # its fetch has started
        later = [asyncio.ensure_future(reads.get(k)) for k in "abcab"]
        return await first, await asyncio.gather(*later)

    first, later = run(main())
    assert first == (97, 3) and [v for v, _ in later] == [97, 98, 99, 97, 98]
    assert store.fetches == [["a"], ["a", "b", "c"]]  # one fetch for five requests, each key once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["get", "write", "yield"]), st.sampled_from("abcd"),
                          st.integers(0, 3)), max_size=60),
       st.integers(1, 3))
def test_every_answer_was_read_after_its_request_arrived(steps, max_batch):
    """Requests, writes and turns of the loop interleaved at random: each answer is the
    store's value as of a moment after the request was made (never an older fetch's),
    and no fetch reads more than ``max_batch`` keys."""
    store = Store()
    reads = Coalescer(store.fetch, max_batch=max_batch)

    async def ask(key: str, arrived_at: int):
        return key, arrived_at, await reads.get(key)

    async def main():
        asked = []
        for op, key, n in steps:
            if op == "get":
                asked.append(asyncio.ensure_future(ask(key, store.writes)))
            elif op == "write":
                store.write(key, store.writes)
            for _ in range(n):
                await asyncio.sleep(0)
        return await asyncio.gather(*asked)

    for key, arrived_at, answer in run(main()):
        if answer is None:
            # Missing when read: written only at or after the read, and so after arrival.
            assert key not in store.data or store.data[key] >= arrived_at
            continue
        _value, read_at = answer
        assert read_at >= arrived_at, (key, arrived_at, answer)
    assert all(len(keys) <= max_batch and len(set(keys)) == len(keys) for keys in store.fetches)


def test_a_failed_fetch_fails_its_batch_only():
    calls = []

    async def fetch(keys):
        calls.append(keys)
        await asyncio.sleep(0)
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        return {k: k.upper() for k in keys}

    reads = Coalescer(fetch)

    async def main():
        first = asyncio.ensure_future(reads.get("a"))
        await asyncio.sleep(0)
        failing = [asyncio.ensure_future(reads.get(k)) for k in "bc"]
        answers = await asyncio.gather(first, *failing, return_exceptions=True)
        return answers, await reads.get("d")

    (first, b, c), after = run(main())
    assert first == "A" and after == "D"
    assert isinstance(b, ConnectionError) and isinstance(c, ConnectionError)


def test_a_request_that_goes_away_does_not_cancel_the_others():
    gate = asyncio.Event

    async def main():
        opened = gate()

        async def fetch(keys):
            await opened.wait()
            return {k: k for k in keys}

        reads = Coalescer(fetch)
        leaver = asyncio.ensure_future(reads.get("a"))
        stayer = asyncio.ensure_future(reads.get("a"))
        await asyncio.sleep(0)
        leaver.cancel()  # its client disconnected
        await asyncio.sleep(0)
        opened.set()
        with pytest.raises(asyncio.CancelledError):
            await leaver
        return await stayer

    assert run(main()) == "a"


def test_each_event_loop_has_its_own_batches():
    store = Store()
    store.write("a", 1)
    reads = Coalescer(store.fetch)
    assert run(reads.get("a")) == (1, 1)
    assert run(reads.get("a")) == (1, 1)  # a new loop: no future of the old one is reused
