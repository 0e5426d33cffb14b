"""One Compose file, three services: `docker stack deploy` on Swarm vs. a Moorage stack.

    .venv/bin/python -m bench.stack [--runs 3] [--skip-swarm]

One private engine, ``tests.support.dockerd.Engine(82)`` (this suite's own), with the
busybox test images (nothing can be pulled). The file (``compose()``): a ``web`` (the
web:v1 image, an HTTP health check), a ``db`` stand-in (keeps an id on a named volume,
healthy once it has written it) and a ``queue`` stand-in; ``web`` ``depends_on`` ``db``
``service_healthy`` and ``queue`` ``service_started``; ``update_config`` start-first,
monitor 1 s, ``failure_action: rollback`` everywhere. Each run, for each system:

1. **Deploy** the file (revision 1). *Ready*: until every service is ready, from the
   deploy call (Moorage: its release succeeded, ``GET /v1/rollouts/{id}?wait=``; Swarm:
   every service N/N, a task with a health check counts only once healthy, polled every
   50 ms since ``docker stack deploy`` returns at once). *web before db healthy*: web's
   first container start minus db's first healthy moment (negative: web started while db
   was not yet healthy, i.e. ``depends_on`` was not honoured).
2. **A bad release**: the same file with web's image ``web:bad`` (never healthy) and a
   changed db (a new environment value). Moorage: the release ends ``rolled_back`` and
   the stack's rollback release brings *every* service back to revision 1; reported: the
   time until that rollback release succeeded, and the db's revision afterwards. Swarm:
   ``failure_action: rollback`` is per service; reported: the time until web's update
   says ``rollback_completed`` and whether db kept its new revision (a mixed stack).
3. Removed (Moorage: ``DELETE /v1/stacks/bench?volumes=true``; Swarm: ``docker stack
   rm`` and the volume); swarm mode is on only around each Swarm run (``swarm init`` on
   loopback with its own listen port and gateway bridge, ``swarm leave`` after).

Everything it makes (containers, volumes, processes, database, queue, the swarm and its
gateway bridge, and the engine if it started it) is removed in ``finally``. Traffic:
127.0.0.1 and the engine's unix socket only.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import docker

from bench.harness import (
    MoorageStack,
    Swarm,
    free_port,
    load_average,
    log,
    med,
    prepare_engine,
    remove_bridge,
    wait_rollout,
    wait_until,
)
from tests.support import dockerd

ENGINE_INDEX = 82
GWBRIDGE = ("docker_gwbr82", "10.214.82.0/24")
NAME = "bench"
POLL_S = 0.05
TIMEOUT_S = 180.0
SERVICES = ("db", "queue", "web")

DB_CMD = ("trap 'exit 0' TERM; mkdir -p /www; [ -f /data/id ] || "
          "cat /proc/sys/kernel/random/uuid > /data/id; cp /data/id /www/id; "
          "touch /data/ready; httpd -f -p 5432 -h /www & wait")
QUEUE_CMD = "trap 'exit 0' TERM; httpd -f -p 5672 -h /www & wait"
UPDATE = "update_config: {parallelism: 1, order: start-first, monitor: 1s, failure_action: rollback}"


def compose(web_image: str = dockerd.WEB_V1, generation: str = "1") -> str:
    return f"""version: "3.8"
services:
  web:
    image: {web_image}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
      interval: 1s
      timeout: 1s
      retries: 2
    depends_on: [db, queue]
    deploy: {{replicas: 2, {UPDATE}}}
    x-moorage: {{progress_deadline_s: 10}}
  db:
    image: {dockerd.WEB_V1}
    command: ["/bin/sh", "-c", "{DB_CMD}"]
    environment: {{GENERATION: "{generation}"}}
    volumes: ["data:/data"]
    healthcheck: {{test: ["CMD", "test", "-f", "/data/ready"], interval: 1s}}
    deploy: {{replicas: 1, {UPDATE}}}
  queue:
    image: {dockerd.WEB_V1}
    command: ["/bin/sh", "-c", "{QUEUE_CMD}"]
    deploy: {{replicas: 1, {UPDATE}}}
volumes:
  data: {{}}
"""


def moorage_compose(web_image: str = dockerd.WEB_V1, generation: str = "1") -> str:
    # The same file, with depends_on's conditions (Compose spec; Swarm's v3 format has none).
    return compose(web_image, generation).replace(
        "depends_on: [db, queue]",
        "depends_on: {db: {condition: service_healthy}, queue: {condition: service_started}}")


def started_at(api: docker.APIClient, label: str) -> float | None:
    """The earliest start of a container carrying ``label``."""
    times = []
    for c in api.containers(all=True, filters={"label": label}):
        started = api.inspect_container(c["Id"])["State"].get("StartedAt", "")
        if started and not started.startswith("0001"):
            times.append(_ts(started))
    return min(times) if times else None


def _ts(text: str) -> float:
    from bench.harness import docker_ts
    value = docker_ts(text)
    assert value is not None
    return value


# -- Moorage -----------------------------------------------------------------------------


def moorage_run(stack: MoorageStack, api: docker.APIClient) -> dict[str, Any]:
    with stack.client() as c:
        t0, t0_wall = time.monotonic(), time.time()
        r = c.put(f"/v1/stacks/{NAME}", content=moorage_compose(),
                  headers={"content-type": "application/yaml"})
        r.raise_for_status()
        release = wait_rollout(c, r.json()["current_rollout"]["id"], time.monotonic() + TIMEOUT_S)
        ready = time.monotonic() - t0
        assert release["state"] == "succeeded", release
        db = c.get(f"/v1/deployments/{NAME}-db/rollouts").json()["items"][0]
        db_healthy = datetime_ts(db["finished_at"])
        web_start = started_at(api, f"moorage.deployment={NAME}-web")
        assert web_start is not None
        order = web_start - db_healthy

        # The bad release.
        t1 = time.monotonic()
        r = c.put(f"/v1/stacks/{NAME}", content=moorage_compose(dockerd.WEB_BAD, "2"),
                  headers={"content-type": "application/yaml"})
        r.raise_for_status()
        bad = wait_rollout(c, r.json()["current_rollout"]["id"], time.monotonic() + TIMEOUT_S)
        failed_at = time.monotonic() - t1
        back = c.get(f"/v1/stacks/{NAME}").json()["current_rollout"]
        back = wait_rollout(c, back["id"], time.monotonic() + TIMEOUT_S)
        restored = time.monotonic() - t1
        db_env = c.get(f"/v1/deployments/{NAME}-db").json()["spec"]["env"]["GENERATION"]
        web_image = c.get(f"/v1/deployments/{NAME}-web").json()["spec"]["image"]
        gone = c.delete(f"/v1/stacks/{NAME}", params={"volumes": "true"}).json()
        wait_rollout(c, gone["id"], time.monotonic() + TIMEOUT_S)
    del t0_wall
    return {"ready": ready, "web_minus_db_healthy": order, "bad_state": bad["state"],
            "bad_detected": failed_at, "restored": restored, "restored_state": back["state"],
            "after": {"db_generation": db_env, "web_image": web_image}}


def datetime_ts(text: str) -> float:
    from bench.harness import parse_api_time
    value = parse_api_time(text)
    assert value is not None
    return value


# -- Swarm -------------------------------------------------------------------------------


def swarm_ready(api: docker.APIClient, replicas: dict[str, int]) -> bool:
    for svc, n in replicas.items():
        tasks = api.tasks(filters={"service": f"{NAME}_{svc}", "desired-state": "running"})
        if len(tasks) != n or any(t["Status"]["State"] != "running" for t in tasks):
            return False
    return True


def swarm_run(swarm: Swarm, api: docker.APIClient, workdir: Path) -> dict[str, Any]:
    eng = swarm.engine
    file1, file2 = workdir / "stack-v1.yaml", workdir / "stack-bad.yaml"
    file1.write_text(compose())
    file2.write_text(compose(dockerd.WEB_BAD, "2"))
    replicas = {"db": 1, "queue": 1, "web": 2}
    t0 = time.monotonic()
    eng.docker("stack", "deploy", "--resolve-image", "never", "-c", str(file1), NAME)
    cli = time.monotonic() - t0
    db_healthy = None
    while not swarm_ready(api, replicas):
        if db_healthy is None and swarm_ready(api, {"db": 1}):
            db_healthy = time.time()
        if time.monotonic() - t0 > TIMEOUT_S:
            raise TimeoutError("swarm stack not ready")
        time.sleep(POLL_S)
    ready = time.monotonic() - t0
    db_healthy = db_healthy or time.time()
    web_start = started_at(api, f"com.docker.swarm.service.name={NAME}_web")
    assert web_start is not None
    order = web_start - db_healthy

    t1 = time.monotonic()
    eng.docker("stack", "deploy", "--resolve-image", "never", "-c", str(file2), NAME)
    state = ""
    while True:
        status = api.inspect_service(f"{NAME}_web").get("UpdateStatus") or {}
        state = status.get("State", "")
        if state in ("rollback_completed", "completed", "paused", "rollback_paused"):
            break
        if time.monotonic() - t1 > TIMEOUT_S:
            raise TimeoutError(f"swarm web update still {state}")
        time.sleep(POLL_S)
    web_back = time.monotonic() - t1
    wait_until(lambda: swarm_ready(api, {"db": 1}), TIMEOUT_S, "the db")
    db_spec = api.inspect_service(f"{NAME}_db")["Spec"]["TaskTemplate"]["ContainerSpec"]
    db_env = dict(e.split("=", 1) for e in db_spec.get("Env", []))
    web_spec = api.inspect_service(f"{NAME}_web")["Spec"]["TaskTemplate"]["ContainerSpec"]
    eng.docker("stack", "rm", NAME)
    wait_until(lambda: not api.containers(all=True, filters={"label": "com.docker.stack.namespace"}),
               60, "the swarm stack's containers to go")
    with suppress(dockerd.DockerCommandError):
        wait_until(lambda: eng.docker("volume", "rm", f"{NAME}_data", check=False).returncode == 0
                   or f"{NAME}_data" not in eng.docker("volume", "ls", "-q").stdout.split(),
                   30, "the volume")
    return {"cli": cli, "ready": ready, "web_minus_db_healthy": order, "web_update": state,
            "web_back": web_back,
            "after": {"db_generation": db_env.get("GENERATION"),
                      "web_image": web_spec["Image"].split("@")[0]}}


# -- report ------------------------------------------------------------------------------


def report(res: dict[str, list[dict[str, Any]]]) -> str:
    rows = ["| | Moorage stack | docker stack deploy (Swarm) |", "|---|---|---|"]
    m, s = res.get("moorage") or [], res.get("swarm") or []

    def col(runs: list[dict[str, Any]], key: str, fmt: str = "{:.2f}") -> str:
        return fmt.format(med([r[key] for r in runs])) if runs else "—"

    rows.append(f"| all services ready after deploy, s (median of {max(len(m), len(s))}) | "
                f"{col(m, 'ready')} | {col(s, 'ready')} (the CLI returned after {col(s, 'cli')}) |")
    rows.append(f"| web's first start − db healthy, s (negative: depends_on not honoured) | "
                f"{col(m, 'web_minus_db_healthy', '{:+.2f}')} | {col(s, 'web_minus_db_healthy', '{:+.2f}')} |")
    if m:
        rows.append(f"| bad web image + changed db: release ended | {m[-1]['bad_state']} after "
                    f"{col(m, 'bad_detected')} s | web: {s[-1]['web_update'] if s else '—'} after "
                    f"{col(s, 'web_back')} s |")
        rows.append(f"| … and then, every service | back at revision 1 after {col(m, 'restored')} s "
                    f"({m[-1]['restored_state']}) | — (no stack-wide rollback) |")
        rows.append(f"| db afterwards (GENERATION, 1 = the good revision) | {m[-1]['after']['db_generation']} | "
                    f"{s[-1]['after']['db_generation'] if s else '—'} |")
        rows.append(f"| web afterwards | {m[-1]['after']['web_image']} | "
                    f"{s[-1]['after']['web_image'] if s else '—'} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-swarm", action="store_true")
    args = parser.parse_args()
    engine, started_engine = prepare_engine(ENGINE_INDEX, offline=not args.skip_swarm)
    dockerd.build_test_images(engine)
    api = docker.APIClient(base_url=engine.url, timeout=60)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-stack-"))
    stack = MoorageStack(engine, workdir / "moorage")
    swarm = Swarm(engine, listen_port=free_port(), gwbridge=GWBRIDGE)
    res: dict[str, list[dict[str, Any]]] = {"moorage": [], "swarm": []}
    try:
        if engine.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() != "inactive":
            raise RuntimeError(f"engine {engine.name} is already in a swarm; not touching it")
        stack.start()
        log(f"load before: {load_average()}")
        for run in range(args.runs):
            res["moorage"].append(moorage_run(stack, api))
            log(f"run {run + 1} moorage: {json.dumps(res['moorage'][-1])}")
            if not args.skip_swarm:
                swarm.init()
                try:
                    res["swarm"].append(swarm_run(swarm, api, workdir))
                finally:
                    swarm.leave()
                log(f"run {run + 1} swarm: {json.dumps(res['swarm'][-1])}")
        log(f"load after: {load_average()}")
        print(report(res))
        print(json.dumps(res, indent=1))
    finally:
        with suppress(Exception):
            swarm.leave()
        remove_bridge(GWBRIDGE[0])
        stack.teardown()
        engine.remove_all_containers()
        engine.docker("volume", "rm", "-f", f"{NAME}_data", check=False)
        if started_engine:
            engine.stop()


if __name__ == "__main__":
    main()
