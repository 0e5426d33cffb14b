"""`moorage dev`: the embedded default (SQLite + filesystem broker) does the whole job."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import VENV_BIN, free_port, wait_for
from tests.support import dockerd

pytestmark = [pytest.mark.docker, pytest.mark.e2e]


def test_embedded_default_apply_run_delete(engine: dockerd.Engine, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOORAGE_")}
    env.update(MOORAGE_DATA_DIR=str(tmp_path / "data"), DOCKER_HOST=engine.url,
               MOORAGE_RESYNC_INTERVAL_S="1")
    port = free_port()
    log = open(tmp_path / "dev.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(VENV_BIN / "moorage"), "dev", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, 60, "moorage dev")
        # The first start prints a fresh admin token; nothing works without one.
        printed = re.findall(r"admin token .*: (mrg_[A-Za-z0-9_-]{43})$",
                             (tmp_path / "dev.log").read_text(), re.MULTILINE)
        assert len(printed) == 1, (tmp_path / "dev.log").read_text()
        assert httpx.get(f"{base}/v1/hosts").status_code == 401
        # It also prints the exact line that logs the command line in: paste it.
        [login] = re.findall(r"to use the CLI, run:  (moorage login .*)$",
                             (tmp_path / "dev.log").read_text(), re.MULTILINE)
        assert login == f"moorage login --url {base} --token {printed[0]}"
        user = {**{k: v for k, v in env.items() if k != "MOORAGE_DATA_DIR"},
                "MOORAGE_CONFIG": str(tmp_path / "cli.yaml")}
        argv = [str(VENV_BIN / "moorage"), *shlex.split(login)[1:]]
        assert subprocess.run(argv, env=user, capture_output=True).returncode == 0
        listed = subprocess.run([str(VENV_BIN / "moorage"), "get", "hosts", "-o", "json"], env=user,
                                capture_output=True, text=True)
        assert [h["name"] for h in json.loads(listed.stdout)] == ["local"], listed
        with httpx.Client(base_url=base, timeout=30,
                          headers={"Authorization": f"Bearer {printed[0]}"}) as c:
            hosts = c.get("/v1/hosts").json()["items"]
            assert [(h["name"], h["state"]) for h in hosts] == [("local", "ready")]
            r = c.put("/v1/deployments/smoke", json={"image": dockerd.WEB_V1, "replicas": 2})
            assert r.status_code == 201, r.text
            rollout = c.get(f"/v1/rollouts/{r.json()['current_rollout']['id']}",
                            params={"wait": 60}).json()
            assert rollout["state"] == "succeeded", rollout
            running = engine.docker("ps", "-q", "--filter", "label=moorage.deployment=smoke")
            assert len(running.stdout.split()) == 2
            deletion = c.delete("/v1/deployments/smoke").json()
            done = c.get(f"/v1/rollouts/{deletion['id']}", params={"wait": 60}).json()
            assert done.get("state") == "succeeded", done
            gone = engine.docker("ps", "-aq", "--filter", "label=moorage.deployment=smoke")
            assert gone.stdout.split() == []
        assert (tmp_path / "data" / "moorage.db").exists()
    except (AssertionError, httpx.HTTPError):
        print((tmp_path / "dev.log").read_text(errors="replace")[-5000:])
        raise
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        engine.remove_all_containers()
