"""The test bed itself: private engines as hosts, test images, published ports, lost hosts.

If these fail, every Docker-backed test would fail for reasons unrelated to Moorage.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.support import dockerd
from tests.support.dockerd import Engine, EngineUnavailable

pytestmark = pytest.mark.docker

# Our containers carry this label, so cleanup never touches anyone else's.
LABEL = "moorage.test=testbed"


def unavailable(exc: EngineUnavailable) -> NoReturn:
    # In CI a machine without engines is a broken pipeline, not a reason to skip.
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(str(exc))
    pytest.skip(str(exc))


@pytest.fixture(scope="module")
def testbed() -> list[Engine]:
    try:
        return dockerd.ensure_engines(2)
    except EngineUnavailable as exc:
        unavailable(exc)


@pytest.fixture(scope="module")
def images(testbed: list[Engine]) -> list[Engine]:
    try:
        dockerd.build_test_images(testbed[0])
    except EngineUnavailable as exc:
        unavailable(exc)
    dockerd.copy_images(testbed[0], testbed[1])
    return testbed


@pytest.fixture
def engines(images: list[Engine]) -> Iterator[list[Engine]]:
    yield images
    for engine in images:
        engine.start()  # a test may have left it stopped
        engine.remove_all_containers(LABEL)


def run_detached(engine: Engine, image: str, *ports: int) -> str:
    publish = [arg for port in ports for arg in ("-p", f"127.0.0.1::{port}")]
    return engine.docker("run", "-d", "--label", LABEL, *publish, image).stdout.strip()


def published_port(engine: Engine, container: str, port: int) -> int:
    # "127.0.0.1:32768" (one line per binding; we bind 127.0.0.1 only)
    binding = engine.docker("port", container, f"{port}/tcp").stdout.splitlines()[0]
    return int(binding.rsplit(":", 1)[1])


def http_get(port: int, path: str, timeout: float = 10.0) -> tuple[int, str]:
    """GET from 127.0.0.1, retrying until the server answers (httpd needs a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except OSError:
            # docker-proxy accepts the connection even when nothing listens behind it,
            # then drops it: that reads as a reset, not as a refused connection.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_engines_are_separate_hosts(testbed: list[Engine]) -> None:
    e1, e2 = testbed
    assert e1.is_up() and e2.is_up()
    assert e1.url != e2.url
    ids = {e.docker("info", "--format", "{{.ID}}").stdout.strip() for e in testbed}
    assert len(ids) == 2


def test_images_are_built_once_and_copied(images: list[Engine]) -> None:
    e1, e2 = images
    started = time.monotonic()
    dockerd.build_test_images(e1)  # all tags exist: nothing to do
    dockerd.copy_images(e1, e2)  # same ids on both: nothing to do
    assert time.monotonic() - started < 5

    def ids(engine: Engine) -> list[str]:
        out = engine.docker("image", "inspect", "--format", "{{.Id}}", *dockerd.TEST_IMAGES)
        return out.stdout.split()

    assert ids(e1) == ids(e2)
    assert ids(e1)[dockerd.TEST_IMAGES.index(dockerd.WEB_LATEST)] == ids(e1)[0]


@pytest.mark.parametrize("index", [0, 1], ids=["e1", "e2"])
def test_web_serves_healthz_on_a_published_port(engines: list[Engine], index: int) -> None:
    engine = engines[index]
    container = run_detached(engine, dockerd.WEB_V1, 8080)
    port = published_port(engine, container, 8080)

    assert http_get(port, "/healthz") == (200, "ok")
    assert http_get(port, "/version") == (200, "v1")
    # Each engine hands out addresses from its own bridge.
    address = engine.docker(
        "inspect", "--format", "{{.NetworkSettings.IPAddress}}", container
    ).stdout.strip()
    assert address.startswith(engine.gateway.rsplit(".", 1)[0] + ".")


def test_v2_reports_its_version(engines: list[Engine]) -> None:
    engine = engines[0]
    port = published_port(engine, run_detached(engine, dockerd.WEB_V2, 8080), 8080)
    assert http_get(port, "/version") == (200, "v2")


def test_bad_never_answers_on_8080(engines: list[Engine]) -> None:
    engine = engines[0]
    container = run_detached(engine, dockerd.WEB_BAD, 8080, 8081)

    # Once it serves on 8081, 8080 is known to have nothing behind it.
    port_8081 = published_port(engine, container, 8081)
    assert http_get(port_8081, "/version") == (200, "bad")
    assert http_get(port_8081, "/healthz")[0] == 404
    with pytest.raises(OSError):
        http_get(published_port(engine, container, 8080), "/healthz", timeout=0.5)


def test_crash_exits_nonzero_at_once(engines: list[Engine]) -> None:
    started = time.monotonic()
    result = engines[0].docker("run", "--label", LABEL, dockerd.WEB_CRASH, check=False)
    assert result.returncode == 1
    assert "crashing on purpose" in result.stderr
    assert time.monotonic() - started < 10


def test_stop_is_fast_thanks_to_the_term_trap(engines: list[Engine]) -> None:
    engine = engines[0]
    container = run_detached(engine, dockerd.WEB_V1)
    started = time.monotonic()
    engine.docker("stop", container)
    assert time.monotonic() - started < 5  # the full grace period would be 10 s


@pytest.mark.parametrize("lose", ["stop", "kill"])
def test_lost_engine_goes_down_and_comes_back(engines: list[Engine], lose: str) -> None:
    e1, e2 = engines
    container = run_detached(e2, dockerd.WEB_V1)

    getattr(e2, lose)()
    assert not e2.is_up()
    assert e2.pid() is None
    assert e2.docker("ps", check=False).returncode != 0
    assert e1.is_up()  # the other host is unaffected

    e2.start()
    assert e2.is_up()
    # Same roots, so the engine comes back knowing its old containers.
    listed = e2.docker("ps", "-aq", "--no-trunc", "--filter", f"label={LABEL}").stdout.split()
    assert container in listed
