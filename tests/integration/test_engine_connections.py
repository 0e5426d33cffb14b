"""A client keeps its connection to a local engine across requests to different URLs:
the SDK's Unix-socket adapter opened one per URL (each container, each deployment's
label filter), and, past 25 of them, closed the pools of others."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from app.dockerhost.engine import EngineAddress, EngineClient
from tests.support import dockerd

pytestmark = pytest.mark.docker
LABEL = "moorage.test=engine-connections"


@pytest.fixture
def client(first_engine: dockerd.Engine) -> Iterator[EngineClient]:
    c = EngineClient(EngineAddress("e1", first_engine.url), timeout=10)
    yield c
    c.close()
    first_engine.remove_all_containers(LABEL)


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    made: list[object] = []
    real = socket.socket.connect

    def counted(sock: socket.socket, address: object) -> None:
        made.append(address)
        real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counted)
    return made


def test_one_connection_serves_every_deployment_and_container(first_engine, client, connects) -> None:
    client.ping()
    ids = [first_engine.docker("create", "--label", LABEL, dockerd.WEB_V1).stdout.strip()
           for _ in range(3)]
    connects.clear()
    for n in range(40):  # more deployments than the SDK kept pools for
        client.list_owned(f"deployment-{n}")
    for cid in ids:
        client.start(cid)
        client.inspect_cached(cid)
        client.remove(cid, stop_timeout=0)
    assert connects == []


def test_closing_the_connections_makes_the_next_call_connect_again(client, connects) -> None:
    client.ping()
    client.close_connections()
    connects.clear()
    client.ping()
    client.list_owned("deployment-a")
    assert len(connects) == 1
