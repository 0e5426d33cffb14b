"""The dashboard in a real headless Chromium against a live Moorage (API, worker and beat
processes, Postgres, Redis, a real engine): sign in, watch a deployment become
available with no reload, its usage charts fill in, roll it back with the button, see
the hosts, and a `read` token sees no write buttons. No request leaves Moorage.

With MOORAGE_SCREENSHOT_DIR set, the deployment page is saved there as dashboard.png
(docs/dashboard.png is made so)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BOOTSTRAP_TOKEN
from tests.e2e.conftest import Stack, running_stack
from tests.support import dockerd
from tests.support.browser import Requests, chromium
from tests.support.dockerd import WEB_V1, WEB_V2

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1,
         "retries": 2}
# min_ready_s keeps each rollout progressing for a few seconds, long enough to be seen.
STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 2, "progress_deadline_s": 60}
WAIT_MS = 60_000
# Usage sampled every second, so the charts have points within the test.
FAST_USAGE = {"MOORAGE_USAGE_INTERVAL_S": "1", "MOORAGE_USAGE_TIMEOUT_S": "2"}
SOME_POINTS = re.compile(r"^[1-9]\d*$")


@pytest.fixture
def stack(clean_db, engine: dockerd.Engine, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path, {"e2e": engine}, **FAST_USAGE) as s:
        yield s


def spec(image: str) -> dict:
    return {"image": image, "replicas": 2, "health_check": CHECK, "update_strategy": STRATEGY,
            "ports": [{"container_port": 8080, "host_ip": "127.0.0.1"}]}


def sign_in(page, url: str, token: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/ui")
    page.get_by_test_id("token").fill(token)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("identity")).to_be_visible(timeout=WAIT_MS)


def test_the_dashboard_follows_a_deployment_live_and_rolls_it_back(stack: Stack) -> None:
    from playwright.sync_api import expect

    with stack.client() as c:
        reader = c.post("/v1/tokens", json={"name": "viewer", "scopes": ["read"]}).json()["token"]

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        requests = Requests(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        console: list[str] = []  # all of it, for a page that did not come up
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))

        # A wrong token is refused; the right one signs in (and is kept for this tab only).
        page.goto(f"{stack.url}/ui")
        try:  # seen once in CI: no form within 30 s, the page's own errors unknown
            expect(page.get_by_test_id("token")).to_be_visible(timeout=WAIT_MS)
        except AssertionError as exc:
            raise AssertionError(
                f"no sign-in form: page errors {errors}; console {console}; requests that failed "
                f"{requests.failed}; of {requests.urls}\n{page.content()[:2000]}\n"
                f"{stack.logs()}") from exc
        page.get_by_test_id("token").fill("mrg_not-a-token")
        page.get_by_test_id("signin-submit").click()
        expect(page.get_by_test_id("signin-error")).to_contain_text("not valid")
        sign_in(page, stack.url, BOOTSTRAP_TOKEN)
        expect(page.get_by_test_id("identity")).to_contain_text("bootstrap (admin)")
        assert page.evaluate("sessionStorage.getItem('moorage.token')") == BOOTSTRAP_TOKEN
        expect(page.get_by_test_id("list-status")).to_have_text("No deployments yet.")
        page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page
        # From here on nothing may fail in the page (a CSP violation is a console error).
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        # The list follows the deployment from progressing to available by itself.
        with stack.client() as c:
            assert c.put("/v1/deployments/web", json=spec(WEB_V1)).status_code == 201
        row = page.get_by_test_id("deployment-web")
        expect(row.get_by_test_id("phase")).to_have_text("progressing", timeout=WAIT_MS)
        expect(row.get_by_test_id("phase")).to_have_text("available", timeout=WAIT_MS)
        expect(row.get_by_test_id("ready")).to_have_text("2/2")
        expect(row).to_contain_text(WEB_V1)

        # The deployment's page: replicas with health and probe, the rollout, the events.
        row.get_by_role("link", name="web").click()
        expect(page.get_by_test_id("phase")).to_have_text("available", timeout=WAIT_MS)
        replicas = page.get_by_test_id("replica")
        expect(replicas).to_have_count(2)
        expect(replicas.get_by_test_id("replica-health")).to_have_text(["healthy", "healthy"])
        expect(replicas.first).to_contain_text("HTTP 200")
        expect(page.get_by_test_id("rollout-state")).to_have_text("succeeded")
        expect(page.get_by_test_id("rollout-ready")).to_have_text("2/2")
        expect(page.get_by_test_id("events")).to_contain_text("RolloutSucceeded")
        expect(page.get_by_test_id("stream-state")).to_have_text("● live")
        # The replicas' recent output (this image prints nothing), not an error.
        expect(page.get_by_test_id("logs")).to_have_text(re.compile(r"^(\(no output\)|web\.\d)"))
        # CPU and memory charts, with the newest values beside them, and more points as
        # samples arrive (read again each sampling interval, with no reload).
        cpu, memory = page.get_by_test_id("usage-cpu-chart"), page.get_by_test_id("usage-memory-chart")
        expect(cpu).to_have_attribute("data-points", SOME_POINTS, timeout=WAIT_MS)
        expect(memory).to_have_attribute("data-points", SOME_POINTS)
        expect(page.get_by_test_id("usage-cpu")).to_have_text(re.compile(r"^\d+\.\d%$"))
        expect(page.get_by_test_id("usage-memory")).to_have_text(re.compile(r"^\d+(\.\d)? (B|KiB|MiB)$"))
        seen = cpu.get_attribute("data-points")
        expect(cpu).not_to_have_attribute("data-points", seen, timeout=WAIT_MS)
        assert int(cpu.get_attribute("data-points") or 0) > int(seen or 0)

        # An update arrives on its own, as it happens.
        with stack.client() as c:
            assert c.put("/v1/deployments/web", json=spec(WEB_V2)).status_code == 200
        expect(page.get_by_test_id("revision")).to_have_text("r2", timeout=WAIT_MS)
        expect(page.get_by_test_id("phase")).to_have_text("progressing", timeout=WAIT_MS)
        expect(page.get_by_test_id("phase")).to_have_text("available", timeout=WAIT_MS)
        expect(page.get_by_test_id("image")).to_have_text(WEB_V2)
        if shots := os.environ.get("MOORAGE_SCREENSHOT_DIR"):
            page.screenshot(path=str(Path(shots) / "dashboard.png"), full_page=True)

        # A refresh (on each burst of events, and every few seconds) keeps the controls:
        # the button about to be pressed, and a number being typed, stay as they are.
        button = page.get_by_test_id("rollback-1").element_handle()
        page.get_by_test_id("scale-input").fill("7")
        view = page.locator("[data-refreshes]")
        before = view.get_attribute("data-refreshes")
        expect(view).not_to_have_attribute("data-refreshes", before or "", timeout=WAIT_MS)
        assert button.evaluate("b => b.isConnected"), "a refresh replaced the rollback button"
        expect(page.get_by_test_id("scale-input")).to_have_value("7")

        # Roll back with the button: r1's template comes back as r3.
        page.get_by_test_id("rollback-1").click()
        expect(page.get_by_test_id("revision")).to_have_text("r3", timeout=WAIT_MS)
        expect(page.get_by_test_id("rollout")).to_contain_text("rollback r2 → r3")
        expect(page.get_by_test_id("phase")).to_have_text("available", timeout=WAIT_MS)
        expect(page.get_by_test_id("image")).to_have_text(WEB_V1)
        expect(page.get_by_test_id("replica").get_by_test_id("replica-health")).to_have_text(
            ["healthy", "healthy"], timeout=WAIT_MS)
        assert stack.deployment("web")["spec"]["image"] == WEB_V1

        # Scale from the page: no revision, a third replica.
        page.get_by_test_id("scale-input").fill("3")
        page.get_by_test_id("scale").click()
        expect(page.get_by_test_id("replica")).to_have_count(3, timeout=WAIT_MS)
        expect(page.get_by_test_id("ready")).to_have_text("3/3", timeout=WAIT_MS)
        expect(page.get_by_test_id("revision")).to_have_text("r3")

        # The global feed names each event's deployment.
        page.get_by_role("link", name="Events").click()
        expect(page.get_by_test_id("event").first).to_be_visible()
        expect(page.get_by_test_id("events")).to_contain_text("web RolloutSucceeded")

        # The hosts, with drain and uncordon for an admin.
        page.get_by_role("link", name="Hosts").click()
        host = page.get_by_test_id("host-e2e")
        expect(host.get_by_test_id("host-state")).to_have_text("ready")
        expect(host.get_by_test_id("heartbeat")).to_have_text(re.compile(r"\d+s ago"))
        host.get_by_test_id("drain").click()
        expect(host.get_by_test_id("host-state")).to_have_text("draining")
        host.get_by_test_id("uncordon").click()
        expect(host.get_by_test_id("host-state")).to_have_text("ready")

        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        assert not errors, errors
        assert not requests.outside(stack.url), requests.outside(stack.url)

        # Sign out: the token leaves the tab.
        page.get_by_test_id("sign-out").click()
        expect(page.get_by_test_id("signin")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('moorage.token')") is None
        context.close()

        # A read token sees everything and no write button.
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, stack.url, reader)
        expect(page.get_by_test_id("identity")).to_contain_text("viewer (read)")
        # A deployment with no replica has nothing sampled: the charts say so.
        with stack.client() as c:
            assert c.put("/v1/deployments/idle", json={**spec(WEB_V1), "replicas": 0}).status_code == 201
        page.goto(f"{stack.url}/ui#/deployments/idle")
        expect(page.get_by_test_id("usage-empty")).to_have_text("no samples yet", timeout=WAIT_MS)
        page.goto(f"{stack.url}/ui#/deployments/web")
        expect(page.get_by_test_id("revision-1")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_test_id("replica")).to_have_count(3)
        # Only the buttons that change nothing: signing out and reloading the logs.
        assert page.get_by_role("button").all_inner_texts() == ["Sign out", "Refresh"]
        assert page.locator("[data-testid^=rollback-]").count() == 0
        page.get_by_role("link", name="Hosts").click()
        expect(page.get_by_test_id("host-e2e")).to_be_visible()
        assert page.get_by_role("button").all_inner_texts() == ["Sign out"]
        context.close()
