"""The log filter that keeps secret values out of every line."""

from __future__ import annotations

import logging

import pytest

from app import logs


@pytest.fixture(autouse=True)
def empty_registry(monkeypatch):
    monkeypatch.setattr(logs, "_secrets", type(logs._secrets)())
    monkeypatch.setattr(logs, "_pattern", None)


def test_registered_values_are_redacted_longest_first() -> None:
    logs.register_secret_values(["hunter2", "hunter2-and-more", "abc"])  # "abc": too short
    assert logs.redact("pw=hunter2-and-more; old=hunter2; abc") == "pw=***; old=***; abc"


def test_the_filter_rewrites_the_record() -> None:
    logs.register_secret_values(["s3cr3t-value"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s here", ("s3cr3t-value",), None)
    assert logs.RedactSecrets().filter(record)
    assert record.getMessage() == "token *** here"


def test_the_registry_is_bounded_and_keeps_what_is_in_use(monkeypatch) -> None:
    monkeypatch.setattr(logs, "MAX_SECRETS", 3)
    logs.register_secret_values(["aaaa1", "aaaa2", "aaaa3"])
    logs.register_secret_values(["aaaa1"])  # seen again: now the newest
    logs.register_secret_values(["aaaa4"])
    assert list(logs._secrets) == ["aaaa3", "aaaa1", "aaaa4"]
    assert logs.redact("aaaa2 aaaa1") == "aaaa2 ***"
