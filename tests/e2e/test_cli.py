"""The real `moorage` command (a subprocess, as a user runs it) against a live Moorage:
API, worker and beat processes, Postgres, Redis and a real engine. Its output is not a
terminal here, so the progress comes as plain lines."""

from __future__ import annotations

import json
import os
import pty
import queue
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import BOOTSTRAP_TOKEN
from tests.e2e.conftest import VENV_BIN, Stack, free_port, wait_for
from tests.support.dockerd import WEB_BAD, WEB_V1, WEB_V2

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1, "retries": 2}
FAST = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 0.5, "progress_deadline_s": 60}


def cli_env(stack: Stack, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's environment: none of the server's MOORAGE_* settings, its own config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOORAGE_")}
    env.update({"MOORAGE_CONFIG": str(tmp_path / "moorage-config.yaml"), **extra})
    return env


def moorage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "moorage"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def moorage_tty(env: dict[str, str], *args: str, timeout: float = 120) -> tuple[int, str]:
    """As a user at a terminal: stdout and stderr a pseudo-terminal (the live display)."""
    main, child = pty.openpty()
    proc = subprocess.Popen([str(VENV_BIN / "moorage"), *args], env={**env, "TERM": "xterm", "COLUMNS": "160"},
                            stdin=child, stdout=child, stderr=child, close_fds=True)
    os.close(child)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return proc.wait(timeout=10), b"".join(chunks).decode(errors="replace")


def spec_file(tmp_path: Path, name: str, **spec) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **spec}))
    return str(path)


def out(done: subprocess.CompletedProcess) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


def test_cli_day_one(stack: Stack, tmp_path: Path) -> None:
    env = cli_env(stack, tmp_path)
    # No context and no token: a usage error (3) that says what to do.
    done = moorage(env, "get", "deployments")
    assert done.returncode == 3 and "moorage login" in done.stderr, out(done)

    done = moorage(env, "login", "--url", stack.url, "--token", BOOTSTRAP_TOKEN)
    assert done.returncode == 0, out(done)
    config = Path(env["MOORAGE_CONFIG"])
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert yaml.safe_load(config.read_text())["contexts"]["127.0.0.1-" + str(stack.port)]["token"] == BOOTSTRAP_TOKEN

    # apply --wait: plain progress lines driven by the event stream, then exit 0.
    web = spec_file(tmp_path, "web", image=WEB_V1, replicas=2, health_check=CHECK,
                    update_strategy=FAST, ports=[{"container_port": 8080, "host_ip": "127.0.0.1"}])
    done = moorage(env, "apply", "-f", web, "--wait", "--timeout", "90")
    assert done.returncode == 0, out(done)
    assert "deployment web created (revision 1)" in done.stdout, out(done)
    assert "RolloutStarted" in done.stdout and "create rollout" in done.stdout, out(done)
    assert "succeeded (updated 2/2, ready 2/2)" in done.stdout, out(done)

    # -o json and -o yaml parse; tables by default.
    done = moorage(env, "get", "deployments", "-o", "json")
    assert done.returncode == 0, out(done)
    [d] = json.loads(done.stdout)
    assert d["name"] == "web" and d["status"]["ready_replicas"] == 2, d
    done = moorage(env, "get", "rollouts", "web", "-o", "yaml")
    assert yaml.safe_load(done.stdout)[0]["state"] == "succeeded", out(done)
    done = moorage(env, "get", "hosts")
    assert done.returncode == 0 and "e2e" in done.stdout and "ready" in done.stdout, out(done)

    # describe: replicas per host with health and the address their port answers on.
    done = moorage(env, "describe", "deployment", "web")
    assert done.returncode == 0, out(done)
    assert "healthy" in done.stdout and "RolloutSucceeded" in done.stdout, out(done)
    replicas = moorage(env, "describe", "deployment", "web", "-o", "json")
    for r in json.loads(replicas.stdout)["replicas"]:
        assert f"127.0.0.1:{r['ports'][0]['host_port']}" in done.stdout, out(done)

    # diff: the dry run as a diff; nothing changes.
    web2 = spec_file(tmp_path, "web2", image=WEB_V2, replicas=2, health_check=CHECK,
                     update_strategy=FAST, ports=[{"container_port": 8080, "host_ip": "127.0.0.1"}])
    Path(web2).write_text(Path(web2).read_text().replace("name: web2", "name: web"))
    done = moorage(env, "diff", "-f", web2)
    assert done.returncode == 0, out(done)
    assert f"- image: {WEB_V1}" in done.stdout and f"+ image: {WEB_V2}" in done.stdout, out(done)
    assert stack.deployment("web")["revision"] == 1

    # update, scale, roll back, restart: each waits and exits 0.
    done = moorage(env, "apply", "-f", web2, "--wait", "--timeout", "90")
    assert done.returncode == 0 and "update rollout" in done.stdout, out(done)
    done = moorage(env, "scale", "web", "3", "--wait", "--timeout", "90")
    assert done.returncode == 0 and "ready 3/3" in done.stdout, out(done)
    done = moorage(env, "rollback", "web", "--wait", "--timeout", "90")
    assert done.returncode == 0 and "rollback rollout" in done.stdout, out(done)
    assert stack.deployment("web")["spec"]["image"] == WEB_V1
    # At a terminal: a live progress display per rollout instead of lines.
    code, screen = moorage_tty(env, "restart", "web", "--wait", "--timeout", "90")
    assert code == 0, screen
    assert "\x1b[" in screen and "web restart" in screen and "ready 3/3" in screen, screen
    done = moorage(env, "rollout", "status", "web")
    assert done.returncode == 0 and "succeeded" in done.stdout, out(done)

    done = moorage(env, "events", "web", "-o", "json")
    reasons = [e["reason"] for e in json.loads(done.stdout)]
    assert "Scaled" in reasons and "RolloutSucceeded" in reasons, reasons
    done = moorage(env, "delete", "web", "--wait", "--timeout", "90")
    assert done.returncode == 0 and "delete rollout" in done.stdout, out(done)
    assert stack.containers("web", all_states=True) == []
    done = moorage(env, "get", "deployment", "web")
    assert done.returncode == 3 and "does not exist" in done.stderr, out(done)

    # A problem from the API: its title, detail and each field error; exit 3.
    bad = spec_file(tmp_path, "typo", image=WEB_V1, replicaz=2)
    done = moorage(env, "apply", "-f", bad)
    assert done.returncode == 3, out(done)
    assert "Unprocessable" in done.stderr and "body.replicaz" in done.stderr, out(done)

    # A stack from a Compose file: applied and waited on, listed, described.
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text(f"services:\n  web:\n    image: {WEB_V1}\n")
    done = moorage(env, "apply", "--stack", "shop", "-f", str(compose_file), "--wait",
                   "--timeout", "120")
    assert done.returncode == 0, out(done)
    assert "stack shop created (revision 1)" in done.stdout, out(done)
    assert "succeeded" in done.stdout + done.stderr, out(done)
    done = moorage(env, "get", "stacks", "-o", "json")
    assert done.returncode == 0 and [s["name"] for s in json.loads(done.stdout)] == ["shop"]
    done = moorage(env, "describe", "stack", "shop")
    assert done.returncode == 0 and "shop-web" in done.stdout, out(done)
    done = moorage(env, "apply", "-f", str(compose_file))  # a Compose file needs --stack
    assert done.returncode == 3 and "--stack NAME" in done.stderr, out(done)


def test_cli_failure_and_timeout_exit_codes(stack: Stack, tmp_path: Path) -> None:
    env = cli_env(stack, tmp_path, MOORAGE_URL=stack.url, MOORAGE_TOKEN=BOOTSTRAP_TOKEN)
    # Never healthy: the rollout fails at its deadline; exit 1 with the reason.
    bad = spec_file(tmp_path, "bad", image=WEB_BAD, replicas=1, health_check=CHECK,
                    update_strategy={**FAST, "progress_deadline_s": 4})
    done = moorage(env, "apply", "-f", bad, "--wait", "--timeout", "90")
    assert done.returncode == 1, out(done)
    assert "failed" in done.stdout and "deadline" in done.stdout, out(done)

    # Still going when --timeout passes: exit 2.
    slow = spec_file(tmp_path, "slow", image=WEB_BAD, replicas=1, health_check=CHECK,
                     update_strategy={**FAST, "progress_deadline_s": 600})
    done = moorage(env, "apply", "-f", slow, "--wait", "--timeout", "3")
    assert done.returncode == 2 and "timed out after 3s" in done.stdout, out(done)
    # Its replica is made before the host is drained below (on a busy machine it may not
    # be yet, 3 s after the apply), so the host's description lists it.
    wait_for(lambda: stack.containers("slow"), 30, "slow's replica")

    # Hosts: drain and uncordon; one that runs replicas cannot go (the problem, exit 3).
    done = moorage(env, "hosts", "drain", "e2e")
    assert done.returncode == 0 and "draining" in done.stdout, out(done)
    assert json.loads(moorage(env, "get", "host", "e2e", "-o", "json").stdout)["schedulable"] is False
    done = moorage(env, "hosts", "uncordon", "e2e")
    assert done.returncode == 0, out(done)
    # Draining took slow's replica off (never ready, it held nothing up); uncordoned, the
    # host runs it again and its description lists it.
    done = wait_for(lambda: (d := moorage(env, "describe", "host", "e2e")).returncode == 0
                    and "slow" in d.stdout and d, 30, "slow's replica back on the host")
    assert "Schedulable:" in done.stdout, out(done)
    done = moorage(env, "hosts", "rm", "e2e")
    assert done.returncode == 3 and "409" in done.stderr, out(done)
    done = moorage(env, "hosts", "add", "spare", "--url", stack.engine.url, "--label", "tier=spare")
    assert done.returncode == 0 and "host spare registered" in done.stdout, out(done)
    for name in ("bad", "slow"):  # with nothing left on it, a host can go
        done = moorage(env, "delete", name, "--wait", "--timeout", "90")
        assert done.returncode == 0, out(done)
    done = moorage(env, "hosts", "rm", "spare")
    assert done.returncode == 0 and "host spare removed" in done.stdout, out(done)

    # Nothing listening: a connection error, exit 3.
    elsewhere = cli_env(stack, tmp_path, MOORAGE_URL=f"http://127.0.0.1:{free_port()}",
                        MOORAGE_TOKEN=BOOTSTRAP_TOKEN)
    done = moorage(elsewhere, "get", "deployments")
    assert done.returncode == 3 and "cannot reach Moorage" in done.stderr, out(done)


def test_cli_logs_follow_streams_new_lines(stack: Stack, tmp_path: Path) -> None:
    env = cli_env(stack, tmp_path, MOORAGE_URL=stack.url, MOORAGE_TOKEN=BOOTSTRAP_TOKEN)
    ticker = spec_file(
        tmp_path, "ticker", image=WEB_V1, replicas=1, secrets={"API_KEY": "hunter2-in-the-logs"},
        command=["/bin/sh", "-c", "trap 'exit 0' TERM; echo key=$API_KEY; i=0; "
                 "while true; do echo tick $i; i=$((i+1)); sleep 0.3; done"])
    done = moorage(env, "apply", "-f", ticker, "--wait", "--timeout", "90")
    assert done.returncode == 0, out(done)

    done = moorage(env, "logs", "ticker", "-o", "json", "--tail", "1000")
    before = max(int(x["line"].split()[1]) for x in json.loads(done.stdout) if x["line"].startswith("tick"))
    proc = subprocess.Popen([str(VENV_BIN / "moorage"), "logs", "ticker", "-f", "--tail", "1000"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        ticks: list[int] = []
        # The followed stream goes on: ticks printed after the command started keep coming.
        while (not ticks or ticks[-1] < before + 10) and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            if " | tick " in line:
                ticks.append(int(line.rsplit(" ", 1)[1]))
        assert ticks and ticks[-1] >= before + 10, (before, seen)
        assert ticks == list(range(ticks[0], ticks[0] + len(ticks))), ticks
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    # The secret the container printed is redacted, as in Moorage's own logs.
    assert any(" | key=***" in line for line in seen), seen
    assert not any("hunter2-in-the-logs" in line for line in seen), seen

    # events -f: the stream from the start, as JSON lines with -o json.
    proc = subprocess.Popen([str(VENV_BIN / "moorage"), "events", "ticker", "-f", "-o", "json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        first = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        assert first["reason"] == "RevisionCreated", first
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)

    # Completion asks the API for names.
    done = subprocess.run([str(VENV_BIN / "moorage"), "logs", "tic"], capture_output=True, text=True,
                          env={**env, "_MOORAGE_COMPLETE": "complete_bash", "COMP_WORDS": "moorage logs tic",
                               "COMP_CWORD": "2"})
    assert "ticker" in done.stdout, out(done)

    # Without -f, --since and --replica narrow the recent lines.
    done = moorage(env, "logs", "ticker", "--replica", "0", "--since", "2s", "-o", "json")
    assert done.returncode == 0, out(done)
    recent = json.loads(done.stdout)
    assert recent and all(x["replica"].startswith("ticker.0.") for x in recent), recent
    assert not any(x["line"].startswith("key=") for x in recent), recent  # older than 2 s
    # A time before 1970 is before every line: all of them, as with no --since.
    done = moorage(env, "logs", "ticker", "--replica", "0", "--since", "1969-07-20T20:17:40Z",
                   "-o", "json")
    assert done.returncode == 0, out(done)
    assert any(x["line"].startswith("key=") for x in json.loads(done.stdout)), done.stdout
