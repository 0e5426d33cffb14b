"""A stack from a Compose file on a real engine, through real API, worker and beat
processes: three services released in depends_on order, the web reaching the db and the
queue by name on the stack's network, a database whose data survives
a redeploy (and a delete without ?volumes), a bad image that rolls the whole stack back,
a manual rollback, and a delete that removes every container (and, when asked, the
volume)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import Stack, running_stack, wait_for
from tests.support import dockerd
from tests.support.parallel import engine_index

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

STACK_ENGINE = engine_index(81)  # this suite's own (81-83)

# Stand-ins built from the busybox test image: the "db" keeps an id on its volume (made
# once, so a new container on the same volume shows the same one) and is healthy once it
# has it; the "queue" listens; the web serves /version and /healthz.
DB_CMD = ("trap 'exit 0' TERM; mkdir -p /www; [ -f /data/id ] || "
          "cat /proc/sys/kernel/random/uuid > /data/id; cp /data/id /www/id; "
          "touch /data/ready; httpd -f -p 5432 -h /www & wait")
QUEUE_CMD = "trap 'exit 0' TERM; httpd -f -p 5672 -h /www & wait"


def compose(web_image: str = dockerd.WEB_V1, db_generation: str = "1") -> str:
    return f"""
services:
  web:
    image: {web_image}
    ports: ["127.0.0.1::8080"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
      interval: 1s
      timeout: 1s
      retries: 2
    depends_on:
      db: {{condition: service_healthy}}
      queue: {{condition: service_started}}
    x-moorage: {{progress_deadline_s: 8}}
  db:
    image: {dockerd.WEB_V1}
    command: ["/bin/sh", "-c", "{DB_CMD}"]
    environment: {{GENERATION: "{db_generation}"}}
    volumes: ["data:/data"]
    healthcheck: {{test: ["CMD", "test", "-f", "/data/ready"], interval: 1s}}
    deploy: {{update_config: {{order: stop-first}}}}
    secrets: [db_password]
  queue:
    image: {dockerd.WEB_V1}
    command: ["/bin/sh", "-c", "{QUEUE_CMD}"]
volumes:
  data: {{}}
secrets:
  db_password: {{}}
"""


@pytest.fixture(scope="module")
def stack_engine() -> dockerd.Engine:
    try:
        dockerd.require_tools()
        eng = dockerd.Engine(STACK_ENGINE)
        eng.start()
        dockerd.build_test_images(eng)
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    return eng


def _forget(engine: dockerd.Engine) -> None:
    # What a failed run may leave: each run is a new installation, which would (rightly)
    # refuse a network of the same name made by another.
    engine.remove_all_containers()
    engine.docker("network", "rm", "shop-default", check=False)
    engine.docker("volume", "rm", "-f", "shop_data")


@pytest.fixture
def live(clean_db, stack_engine: dockerd.Engine, tmp_path: Path) -> Iterator[Stack]:
    _forget(stack_engine)
    with running_stack(tmp_path, {"e2e": stack_engine}) as s:
        yield s
    _forget(stack_engine)


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def apply(s: Stack, text: str, status: int = 200) -> dict[str, Any]:
    with s.client() as c:
        return ok(c.put("/v1/stacks/shop", json={"compose": text,
                                                 "secrets": {"db_password": "hunter2"}}), status)


def released(s: Stack, body: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    return s.wait_rollout(body["current_rollout"]["id"], timeout)


def db_id(s: Stack) -> tuple[str, str]:
    """(container id, the id the db keeps on its volume)."""
    (db,) = [c for c in s.containers("shop-db") if c["state"] == "running"]
    return db["id"], s.engine.docker("exec", db["id"], "cat", "/data/id").stdout.strip()


def at(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def rollouts(s: Stack, deployment: str) -> list[dict[str, Any]]:
    with s.client() as c:
        return ok(c.get(f"/v1/deployments/{deployment}/rollouts"))["items"]


def test_a_stack_is_released_in_order_keeps_its_data_and_rolls_back_as_one(live: Stack) -> None:
    s = live
    # 1. The first release: db and queue first, web once db is healthy.
    first = released(s, apply(s, compose(), 201))
    with s.client() as c:
        assert first["state"] == "succeeded", (first["message"], c.get("/v1/stacks/shop").json())
    db_ready = at(rollouts(s, "shop-db")[0]["finished_at"])
    web_created = at(rollouts(s, "shop-web")[0]["created_at"])
    assert web_created >= db_ready  # web was applied only once db was healthy
    with s.client() as c:
        stack = ok(c.get("/v1/stacks/shop"))
    assert stack["status"]["phase"] == "available"
    assert {v["name"]: v["ready_replicas"] for v in stack["services"]} == {"db": 1, "queue": 1, "web": 1}
    container, kept = db_id(s)
    assert kept
    env = s.engine.docker("exec", container, "env").stdout
    assert "db_password=hunter2" in env  # the secret, as an environment variable
    # On the stack's network, the web reaches the db and the queue by service name (as
    # Compose has it) and by deployment name (<stack>-<service>).
    (web, *_) = [c for c in s.containers("shop-web") if c["state"] == "running"]

    def fetch(url: str) -> str:
        return s.engine.docker("exec", web["id"], "wget", "-q", "-O", "-", url).stdout.strip()

    assert fetch("http://db:5432/id") == fetch("http://shop-db:5432/id") == kept
    assert fetch("http://queue:5672/healthz") == fetch("http://shop-queue:5672/healthz") == "ok"

    # 2. A redeploy of the db (a new container): its data is on the stack's volume.
    second = released(s, apply(s, compose(db_generation="2")))
    assert second["state"] == "succeeded", (second, s.logs())
    new_container, kept_again = db_id(s)
    assert new_container != container and kept_again == kept

    # 3. A bad web image: the web's rollout fails, and the whole stack goes back to the
    #    last revision that succeeded (2), as a new revision (4).
    bad = released(s, apply(s, compose(web_image=dockerd.WEB_BAD, db_generation="3")))
    assert bad["state"] == "rolled_back", (bad, s.logs())
    assert "service web failed" in bad["message"]
    assert "rolling the stack back to revision 2" in bad["message"]
    with s.client() as c:
        stack = ok(c.get("/v1/stacks/shop"))
    assert stack["revision"] == 4 and stack["current_rollout"]["kind"] == "rollback"
    back = s.wait_rollout(stack["current_rollout"]["id"], 120)
    assert back["state"] == "succeeded", (back, s.logs())
    web_image = s.deployment("shop-web")["spec"]["image"]
    db_env = s.deployment("shop-db")["spec"]["env"]
    assert (web_image, db_env["GENERATION"]) == (dockerd.WEB_V1, "2")  # every service back
    assert db_id(s)[1] == kept

    # 4. A manual rollback of the whole stack, to revision 1.
    with s.client() as c:
        manual = ok(c.post("/v1/stacks/shop/rollback", json={"revision": 1}), 202)
    done = s.wait_rollout(manual["id"], 120)
    assert done["state"] == "succeeded", (done, s.logs())
    assert s.deployment("shop-db")["spec"]["env"]["GENERATION"] == "1"
    assert db_id(s)[1] == kept

    # A service is changed only through its stack.
    with s.client() as c:
        r = c.patch("/v1/deployments/shop-web", json={"replicas": 2},
                    headers={"content-type": "application/merge-patch+json"})
        assert r.status_code == 409 and "stack 'shop'" in r.json()["detail"]


def test_delete_removes_every_container_and_the_volume_only_when_asked(live: Stack) -> None:
    s = live
    assert released(s, apply(s, compose(), 201))["state"] == "succeeded", s.logs()
    kept = db_id(s)[1]

    with s.client() as c:
        gone = ok(c.delete("/v1/stacks/shop"), 202)
    assert s.wait_rollout(gone["id"], 60)["state"] == "succeeded", s.logs()
    for name in ("shop-web", "shop-db", "shop-queue"):
        assert s.containers(name, all_states=True) == []
    with s.client() as c:
        assert c.get("/v1/stacks/shop").status_code == 404
        assert c.get("/v1/deployments/shop-db").status_code == 404
    assert "shop_data" in s.engine.docker("volume", "ls", "-q").stdout.split()
    wait_for(lambda: "shop-default" not in s.engine.docker(
        "network", "ls", "--format", "{{.Name}}").stdout.split(), 10, "the stack's network to go")

    # The same stack again finds its data; deleted with ?volumes=true, the volume goes too.
    assert released(s, apply(s, compose(), 201))["state"] == "succeeded", s.logs()
    assert db_id(s)[1] == kept
    with s.client() as c:
        gone = ok(c.delete("/v1/stacks/shop", params={"volumes": "true"}), 202)
    finished = s.wait_rollout(gone["id"], 60)
    assert finished["state"] == "succeeded", (finished, s.logs())
    assert "shop_data" in finished["message"]
    wait_for(lambda: "shop_data" not in s.engine.docker("volume", "ls", "-q").stdout.split(),
             10, "the volume to go")
    assert not s.engine.docker("ps", "-aq", "--filter", "label=moorage.deployment").stdout.strip()
