"""What a real engine's errors become (issue 10): a container removed between observe and
act is gone, not a failure; a bad request is permanent; a name in use is temporary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.dockerhost import ContainerGone, PermanentEngineError, TemporaryEngineError
from app.dockerhost.engine import EngineAddress, EngineClient
from tests.support import dockerd

pytestmark = pytest.mark.docker
LABEL = "moorage.test=engine-errors"


@pytest.fixture(scope="module")
def engine(first_engine: dockerd.Engine) -> Iterator[dockerd.Engine]:
    yield first_engine
    first_engine.remove_all_containers(LABEL)


@pytest.fixture
def client(engine: dockerd.Engine) -> Iterator[EngineClient]:
    c = EngineClient(EngineAddress("e1", engine.url), timeout=10)
    yield c
    c.close()


def _container(engine: dockerd.Engine, *extra: str) -> str:
    return engine.docker("create", "--label", LABEL, *extra, dockerd.WEB_V1).stdout.strip()


def test_a_container_removed_before_act_is_gone(engine, client: EngineClient) -> None:
    cid = _container(engine)
    engine.docker("rm", "-f", cid)
    with pytest.raises(ContainerGone):
        client.start(cid)
    client.remove(cid)  # removing what is already gone reached its goal


def test_a_command_that_cannot_run_is_permanent(engine, client: EngineClient) -> None:
    cid = _container(engine, "--entrypoint", "/nonexistent")
    with pytest.raises(PermanentEngineError) as caught:
        client.start(cid)
    assert not isinstance(caught.value, TemporaryEngineError)
    assert "nonexistent" in str(caught.value)
