"""The embedded filesystem broker: how often its consumer looks for jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.jobs import make_celery


def _embedded(tmp_path: Path, **kw) -> Settings:
    return Settings(data_dir=tmp_path, database_url="", broker_url="", **kw)


def test_the_filesystem_transport_polls_at_the_configured_interval(tmp_path: Path) -> None:
    app = make_celery(_embedded(tmp_path, broker_poll_interval_s=0.05))
    with app.connection_for_read() as conn:
        # kombu's own default is 1 s: every job would wait half of that on average.
        assert conn.transport.polling_interval == 0.05
        assert conn.transport_options["data_folder_in"] == str(tmp_path / "broker" / "queue")


def test_the_default_interval_is_well_under_kombus(tmp_path: Path) -> None:
    app = make_celery(_embedded(tmp_path))
    with app.connection_for_read() as conn:
        assert conn.transport.polling_interval == Settings().broker_poll_interval_s < 0.1


def test_a_job_sent_is_received_through_the_folder(tmp_path: Path) -> None:
    """What the API's after-commit send writes, the worker's consumer reads."""
    app = make_celery(_embedded(tmp_path))
    app.send_task("deployments.reconcile", args=["x"])
    with app.connection_for_read() as conn:
        got = conn.SimpleQueue(app.conf.task_default_queue).get(timeout=2)
        assert got.headers["task"] == "deployments.reconcile"
        got.ack()


def test_redis_ignores_it(tmp_path: Path) -> None:
    app = make_celery(Settings(data_dir=tmp_path, database_url="postgresql://x/y",
                               broker_url="redis://127.0.0.1:1/0"))
    assert "polling_interval" not in app.conf.broker_transport_options


@pytest.mark.parametrize("value", [0, -1, 10])
def test_out_of_range_intervals_are_refused(value: float) -> None:
    with pytest.raises(ValidationError):
        Settings(broker_poll_interval_s=value)


def test_a_consumer_never_sees_a_message_being_written(tmp_path: Path, monkeypatch) -> None:
    """kombu's own filesystem transport creates the file, then writes it: a consumer in
    between took an empty message, and Celery's consumer died on it (JSONDecodeError)."""
    from app import embedded_broker

    app = make_celery(_embedded(tmp_path))
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        assert isinstance(channel, embedded_broker.Channel)
        seen_while_writing = []
        real_dumps = embedded_broker.dumps

        def dumps_and_look(payload):
            seen_while_writing.append(channel._size("q"))
            with pytest.raises(Exception, match="Empty|^$"):
                channel._get("q")
            return real_dumps(payload)

        monkeypatch.setattr(embedded_broker, "dumps", dumps_and_look)
        channel._put("q", {"body": "x"})
        assert seen_while_writing == [0]
        assert channel._size("q") == 1
        assert channel._get("q") == {"body": "x"}
        assert list((tmp_path / "broker" / "queue").iterdir()) == []
