"""The dashboard's and the API docs' assets are Moorage's own: served from the package,
the dashboard under a CSP that allows this origin only, and `/docs` renders in a real
browser with no request anywhere else."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.support.browser import Requests, chromium
from tests.support.ports import free_port

UI = Path(__file__).resolve().parents[2] / "app" / "ui"


@pytest.fixture(scope="module")
def anonymous(postgres: str, redis_broker: str) -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app()) as c:
        yield c


def test_the_dashboard_shell_and_every_module_it_imports_are_served(anonymous: TestClient) -> None:
    page = anonymous.get("/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert anonymous.get("/ui/", follow_redirects=False).headers["location"] == "/ui"
    # Everything the shell names, and everything each module imports, is there.
    wanted = re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', page.text)
    seen: set[str] = set()
    while wanted:
        path = wanted.pop()
        if path in seen:
            continue
        seen.add(path)
        asset = anonymous.get(path)
        assert asset.status_code == 200, path
        assert asset.headers["cache-control"] == "no-cache", path  # never a stale module
        assert anonymous.get(path, headers={"If-None-Match": asset.headers["etag"]}
                             ).status_code == 304, path
        if path.endswith(".js"):
            assert "javascript" in asset.headers["content-type"], path
            base = path.rsplit("/", 1)[0]
            for rel in re.findall(r'from "(\.{1,2}/[^"]+)"', asset.text):
                parts = (base + "/" + rel).split("/")
                out: list[str] = []
                for part in parts:
                    if part == "..":
                        out.pop()
                    elif part != ".":
                        out.append(part)
                wanted.append("/".join(out))
    on_disk = {f"/ui/static/{p.relative_to(UI / 'static')}" for p in (UI / "static").rglob("*")
               if p.is_file()}
    assert seen - {"/ui/static/style.css"} == {p for p in on_disk if p.endswith(".js")}
    assert "/ui/static/style.css" in seen
    # No asset names another site (a replica's own address is made from its ports). SVG's
    # namespace is a name that is never fetched (createElementNS needs it).
    for path in on_disk:
        text = anonymous.get(path).text.replace('"http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://[\w.-]", text), path


def test_the_dashboard_is_package_data(anonymous: TestClient) -> None:
    """What setuptools installs with Moorage covers every file the dashboard serves."""
    import fnmatch
    import tomllib

    pyproject = tomllib.loads((UI.parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["app.ui"]
    files = [str(p.relative_to(UI)) for p in UI.rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert files and all(any(fnmatch.fnmatch(f, pat) for pat in patterns) for f in files), files


def test_docs_assets_are_local(anonymous: TestClient) -> None:
    page = anonymous.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
    for asset in assets:
        assert anonymous.get(asset).status_code == 200, asset
    # ReDoc's page fetches its logo from a CDN whatever it is told: not served.
    assert anonymous.get("/redoc").status_code == 404


@pytest.fixture(scope="module")
def server(postgres: str, redis_broker: str) -> Iterator[str]:
    from app.main import create_app

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def test_docs_render_in_a_browser_with_nothing_from_outside(server: str) -> None:
    from playwright.sync_api import expect

    with chromium() as browser:
        context = browser.new_context()
        requests = Requests(context)
        page = context.new_page()
        page.goto(f"{server}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Moorage", timeout=30_000)
        expect(page.locator(".opblock-tag-section").first).to_be_visible()
        assert page.locator("#operations-events-list_all_events").count() == 1
        assert requests.urls and not requests.outside(server), requests.outside(server)
        context.close()
