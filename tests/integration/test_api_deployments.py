"""The deployments, rollouts and operations HTTP API against a real Postgres and Redis.

No worker runs here, so every rollout stays `pending`: what is tested is the desired
state the API records (revisions, rollouts, events) and the contract of each answer.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
SECRET = "hunter2-very-secret"
OTHER_SECRET = "correct-horse-battery-staple"


# A bearer token of this run's own: an admin token made through the token service.
TOKEN = f"mrg_it_{uuid.uuid4().hex}{uuid.uuid4().hex}"


def ensure_token() -> None:
    """(Re)make TOKEN unless it exists: `clean_db` empties the token table too."""
    from app.db import session_scope
    from app.services import tokens

    with session_scope() as session:
        tokens.ensure_bootstrap(session, TOKEN)


@pytest.fixture(scope="module")
def app_client(postgres: str, redis_broker: str) -> Iterator[TestClient]:
    """One client for the module, made once the `postgres` fixture has pointed the
    settings at the test database."""
    from app.main import create_app

    with TestClient(create_app(), headers={"Authorization": f"Bearer {TOKEN}"}) as test_client:
        yield test_client


@pytest.fixture
def client(app_client: TestClient, request: pytest.FixtureRequest) -> TestClient:
    """Each test works on a deployment name of its own (`name`), so it needs no emptied
    tables; the few that list every deployment ask for `clean_db` too (emptying the
    tables for every test would make this file slow)."""
    if "clean_db" in request.fixturenames:
        request.getfixturevalue("clean_db")  # empty the tables before the token is made
    ensure_token()
    return app_client


@pytest.fixture
def name() -> str:
    return f"web-{uuid.uuid4().hex[:8]}"


# -- helpers ---------------------------------------------------------------------------


def spec(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "image": "nginx:1.27",
        "replicas": 2,
        "env": {"A": "1", "B": "2"},
        "labels": {"team": "web"},
    }
    body.update(overrides)
    return body


def put(client: TestClient, name: str, body: Any, **kwargs: Any) -> httpx.Response:
    return client.put(f"/v1/deployments/{name}", json=body, **kwargs)


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status
    assert body["title"] and body["type"]
    return body


def error_paths(body: dict[str, Any]) -> list[str]:
    return [".".join(str(part) for part in e["loc"]) for e in body["errors"]]


def names_field(body: dict[str, Any], field: str) -> bool:
    """Whether some error points at `field` (or inside it, e.g. a dict key)."""
    return any(p == field or p.startswith(field + ".") for p in error_paths(body))


def revision_numbers(client: TestClient, name: str) -> list[int]:
    items = ok(client.get(f"/v1/deployments/{name}/revisions", params={"limit": 500}))["items"]
    return [r["number"] for r in items]


def rollouts_of(client: TestClient, name: str) -> list[dict[str, Any]]:
    return ok(client.get(f"/v1/deployments/{name}/rollouts", params={"limit": 500}))["items"]


def events_of(client: TestClient, name: str, **params: Any) -> list[dict[str, Any]]:
    return ok(client.get(f"/v1/deployments/{name}/events", params={"limit": 500, **params}))[
        "items"
    ]


def get(client: TestClient, name: str) -> dict[str, Any]:
    return ok(client.get(f"/v1/deployments/{name}"))


def cursor_of(key: Any) -> str:
    """A well-formed cursor that this API never handed out."""
    return base64.urlsafe_b64encode(json.dumps({"k": key}).encode()).decode()


# -- apply (PUT) -------------------------------------------------------------------------


def test_put_creates_with_etag_and_location(client: TestClient, name: str) -> None:
    resp = put(client, name, spec())
    body = ok(resp, 201)
    assert resp.headers["ETag"] == '"1"'
    assert resp.headers["Location"] == f"/v1/deployments/{name}"
    assert body["name"] == name
    assert body["revision"] == 1
    assert body["resource_version"] == 1
    assert body["spec"]["image"] == "nginx:1.27"
    assert body["spec"]["replicas"] == 2
    assert body["spec"]["env"] == {"A": "1", "B": "2"}
    assert body["status"]["phase"] == "progressing"
    assert body["current_rollout"]["kind"] == "create"
    assert body["current_rollout"]["state"] == "pending"
    assert body["current_rollout"]["from_revision"] is None
    assert body["current_rollout"]["to_revision"] == 1
    assert body["current_rollout"]["progress"]["desired"] == 2

    fetched = client.get(f"/v1/deployments/{name}")
    assert ok(fetched)["spec"] == body["spec"]
    assert fetched.headers["ETag"] == '"1"'


def test_same_spec_again_is_a_no_op(client: TestClient, name: str) -> None:
    first = ok(put(client, name, spec()), 201)
    # Same spec, keys in another order and defaults spelled out: still the same spec.
    again = put(
        client, name,
        {"labels": {"team": "web"}, "env": {"B": "2", "A": "1"}, "replicas": 2,
         "image": "nginx:1.27", "restart_policy": "always", "ports": []},
    )
    body = ok(again, 200)
    assert again.headers["ETag"] == '"1"'
    assert body["revision"] == 1
    assert body["resource_version"] == 1
    assert body["current_rollout"]["id"] == first["current_rollout"]["id"]
    assert revision_numbers(client, name) == [1]
    assert len(rollouts_of(client, name)) == 1
    assert [e["reason"] for e in events_of(client, name)] == ["RevisionCreated"]


def test_changed_spec_makes_a_revision_and_an_update_rollout(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    resp = put(client, name, spec(image="nginx:1.28"))
    body = ok(resp, 200)
    assert resp.headers["ETag"] == '"2"'
    assert body["revision"] == 2
    assert body["resource_version"] == 2
    assert body["spec"]["image"] == "nginx:1.28"
    rollout = body["current_rollout"]
    assert (rollout["kind"], rollout["from_revision"], rollout["to_revision"]) == ("update", 1, 2)
    assert revision_numbers(client, name) == [2, 1]
    assert [r["kind"] for r in rollouts_of(client, name)] == ["update", "create"]


def test_replicas_only_change_is_a_scale_and_makes_no_revision(
    client: TestClient, name: str
) -> None:
    """As in Kubernetes: `replicas` is not part of a revision. A scale changes the
    deployment, records a `Scaled` event and starts a `scale` rollout to the current
    revision."""
    ok(put(client, name, spec()), 201)
    resp = put(client, name, spec(replicas=7))
    body = ok(resp)
    assert body["revision"] == 1
    assert body["spec"]["replicas"] == 7 and body["status"]["replicas"] == 7
    assert (body["resource_version"], resp.headers["ETag"]) == (2, '"2"')
    assert body["status"]["phase"] == "progressing"
    rollout = body["current_rollout"]
    assert (rollout["kind"], rollout["from_revision"], rollout["to_revision"]) == ("scale", 1, 1)
    assert rollout["progress"]["desired"] == 7
    assert revision_numbers(client, name) == [1]
    assert "replicas" not in ok(client.get(f"/v1/deployments/{name}/revisions/1"))["spec"]
    scaled = events_of(client, name)[-1]
    assert (scaled["reason"], scaled["message"]) == ("Scaled", "replicas 2 → 7")
    assert scaled["rollout_id"] == rollout["id"]
    assert get(client, name)["spec"]["replicas"] == 7

    # The same count again is nothing at all.
    again = ok(put(client, name, spec(replicas=7)))
    assert (again["resource_version"], again["current_rollout"]["id"]) == (2, rollout["id"])
    assert len(rollouts_of(client, name)) == 2

    # Replicas plus anything else is a new revision (an update), at the new count.
    body = ok(put(client, name, spec(replicas=3, env={"A": "1"})))
    assert body["current_rollout"]["kind"] == "update"
    assert (body["revision"], body["spec"]["replicas"]) == (2, 3)
    assert "replicas: 7 → 3" in events_of(client, name)[-1]["message"]
    assert revision_numbers(client, name) == [2, 1]


def test_rollback_after_a_scale_keeps_the_replica_count(client: TestClient, name: str) -> None:
    """A rollback restores a template, not a replica count: the scale is not undone,
    and there is no revision to roll a scale back to."""
    ok(put(client, name, spec()), 201)
    ok(put(client, name, spec(image="nginx:1.28")))
    ok(client.patch(f"/v1/deployments/{name}", json={"replicas": 5}))
    assert revision_numbers(client, name) == [2, 1]

    rollout = ok(client.post(f"/v1/deployments/{name}/rollback"), 202)
    assert (rollout["kind"], rollout["from_revision"], rollout["to_revision"]) == ("rollback", 2, 3)
    assert rollout["progress"]["desired"] == 5
    current = get(client, name)
    assert (current["revision"], current["spec"]["image"], current["spec"]["replicas"]) == (
        3, "nginx:1.27", 5)
    assert current["status"]["replicas"] == 5
    rev3 = ok(client.get(f"/v1/deployments/{name}/revisions/3"))
    assert rev3["spec"] == ok(client.get(f"/v1/deployments/{name}/revisions/1"))["spec"]
    assert "replicas" not in events_of(client, name)[-1]["message"]


def test_dry_run_of_a_scale_makes_no_revision(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    for body in (
        ok(client.put(f"/v1/deployments/{name}", params={"dry_run": "true"},
                      json=spec(replicas=4))),
        ok(client.patch(f"/v1/deployments/{name}", params={"dry_run": "true"},
                        json={"replicas": 4})),
    ):
        assert (body["new_revision"], body["revision"]) == (False, 1)
        assert [(c["path"], c["old"], c["new"]) for c in body["changes"]] == [
            ("replicas", 2, 4)]
    assert get(client, name)["spec"]["replicas"] == 2


def test_post_creates_and_refuses_an_existing_name(client: TestClient, name: str) -> None:
    resp = client.post("/v1/deployments", json={"name": "api", **spec()})
    body = ok(resp, 201)
    assert resp.headers["Location"] == "/v1/deployments/api"
    assert resp.headers["ETag"] == '"1"'
    assert body["name"] == "api" and body["revision"] == 1

    conflict = client.post("/v1/deployments", json={"name": "api", **spec(image="redis:7")})
    problem(conflict, 409)
    assert get(client, "api")["spec"]["image"] == "nginx:1.27"
    assert revision_numbers(client, "api") == [1]

    bad = client.post("/v1/deployments", json={"name": "Not_A_Label", **spec()})
    assert "body.name" in error_paths(problem(bad, 422))


# -- merge patch -------------------------------------------------------------------------


def test_patch_is_a_json_merge_patch(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)

    resp = client.patch(f"/v1/deployments/{name}", json={"image": "nginx:1.28"})
    body = ok(resp)
    assert resp.headers["ETag"] == '"2"'
    assert body["spec"]["image"] == "nginx:1.28"
    assert body["spec"]["env"] == {"A": "1", "B": "2"}  # untouched fields stay
    assert body["spec"]["replicas"] == 2
    assert body["current_rollout"]["kind"] == "update"

    body = ok(client.patch(f"/v1/deployments/{name}", json={"replicas": 5}))
    assert body["spec"]["replicas"] == 5
    assert body["spec"]["image"] == "nginx:1.28"
    assert body["current_rollout"]["kind"] == "scale"
    assert body["revision"] == 2  # a scale makes no revision

    # null removes a key; the merge-patch media type is accepted.
    resp = client.patch(
        f"/v1/deployments/{name}",
        content=json.dumps({"env": {"A": None, "C": "3"}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    body = ok(resp)
    assert body["spec"]["env"] == {"B": "2", "C": "3"}
    assert body["spec"]["replicas"] == 5  # merged at the deployment's count
    assert body["revision"] == 3
    assert revision_numbers(client, name) == [3, 2, 1]

    # A patch that changes nothing makes no revision.
    body = ok(client.patch(f"/v1/deployments/{name}", json={"replicas": 5}))
    assert body["revision"] == 3
    assert revision_numbers(client, name) == [3, 2, 1]


def test_patch_of_a_missing_deployment_is_404(client: TestClient, name: str) -> None:
    problem(client.patch("/v1/deployments/ghost", json={"replicas": 1}), 404)
    problem(client.get("/v1/deployments/ghost"), 404)


# -- If-Match ----------------------------------------------------------------------------


def test_if_match_guards_put_patch_and_delete(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)

    resp = put(client, name, spec(image="nginx:1.28"), headers={"If-Match": '"1"'})
    assert ok(resp)["revision"] == 2
    assert resp.headers["ETag"] == '"2"'

    stale = {"If-Match": '"1"'}
    body = problem(put(client, name, spec(image="nginx:1.29"), headers=stale), 412)
    assert body["detail"]
    problem(client.patch(f"/v1/deployments/{name}", json={"replicas": 9}, headers=stale), 412)
    problem(client.delete(f"/v1/deployments/{name}", headers=stale), 412)
    problem(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1}, headers=stale), 412)

    # Nothing of the refused changes was written.
    current = get(client, name)
    assert current["resource_version"] == 2
    assert current["spec"]["image"] == "nginx:1.28"
    assert current["spec"]["replicas"] == 2
    assert current["status"]["phase"] != "deleting"
    assert revision_numbers(client, name) == [2, 1]
    assert len(rollouts_of(client, name)) == 2

    # The current ETag (also in a list of tags) is accepted.
    resp = client.patch(f"/v1/deployments/{name}", json={"replicas": 3}, headers={"If-Match": '"7", "2"'})
    assert ok(resp)["spec"]["replicas"] == 3


def test_if_match_on_a_missing_deployment_is_412_and_creates_nothing(client: TestClient, name: str) -> None:
    problem(put(client, "ghost", spec(), headers={"If-Match": '"1"'}), 412)
    problem(client.get("/v1/deployments/ghost"), 404)


# -- lists and pagination ----------------------------------------------------------------


@pytest.mark.usefixtures("clean_db")
def test_list_filters_by_label(client: TestClient) -> None:
    for name, team in (("a1", "alpha"), ("b1", "beta"), ("a2", "alpha"), ("c1", "a=b")):
        ok(put(client, name, spec(labels={"team": team})), 201)
    ok(put(client, "nolabel", spec(labels={})), 201)

    def names(**params: Any) -> list[str]:
        return [d["name"] for d in ok(client.get("/v1/deployments", params=params))["items"]]

    assert names(label="team=alpha") == ["a1", "a2"]
    assert names(label="team=beta") == ["b1"]
    assert names(label="team=a=b") == ["c1"]  # only the first "=" splits
    assert names(label="team=gamma") == []
    assert names(label="owner=alpha") == []
    assert names() == ["a1", "a2", "b1", "c1", "nolabel"]
    problem(client.get("/v1/deployments", params={"label": "no-equals-sign"}), 422)


@pytest.mark.usefixtures("clean_db")
def test_pagination_visits_every_deployment_once(client: TestClient) -> None:
    expected = sorted(f"app-{i:02d}" for i in range(7))
    for name in reversed(expected):
        ok(put(client, name, spec(labels={"team": "even" if int(name[-1]) % 2 == 0 else "odd"})), 201)

    def walk(**params: Any) -> tuple[list[str], int]:
        seen: list[str] = []
        cursor, pages = None, 0
        while True:
            query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
            page = ok(client.get("/v1/deployments", params=query))
            pages += 1
            assert len(page["items"]) <= 2
            seen += [d["name"] for d in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen, pages
            assert pages < 20, "pagination does not end"

    seen, pages = walk()
    assert seen == expected  # in order, no duplicates, nothing left out
    assert pages == 4
    even, _ = walk(label="team=even")
    assert even == [n for n in expected if int(n[-1]) % 2 == 0]


def statements_of(call, *, but_token_checks: bool = False) -> tuple[Any, int]:
    """What ``call()`` returns and how many SQL statements the app ran for it (with
    ``cache_clock`` standing still, a token's check once read is not counted again: a slow
    machine outran CACHE_TTL_S between the check and the request counted);
    ``but_token_checks``: not counting a token check (kept for a while, so counted or not
    depending on the clock)."""
    from sqlalchemy import event

    from app.db import get_engine, get_read_engine

    count = [0]
    reads = get_read_engine()
    engines = (get_engine(), getattr(reads, "sync_engine", reads))  # writes', and reads' own

    def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not (but_token_checks and "api_token" in statement):
            count[0] += 1

    for engine in engines:
        event.listen(engine, "before_cursor_execute", counted)
    try:
        result = call()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", counted)
    return result, count[0]


def app_statements_of(call) -> tuple[Any, int]:
    return statements_of(call, but_token_checks=True)


@pytest.mark.usefixtures("clean_db")
def test_an_apply_is_a_few_statements_and_its_answer_is_what_get_shows(client: TestClient) -> None:
    """A PUT that changes nothing locks the row, reads its current revision and its view
    (usage totals included); a new revision writes it, the deployment, the rollout
    (superseding the one still pending) and their events, with the job's mark in the
    deployment's own update (the events in one INSERT), and reads its view back (it was
    4 and 14)."""
    ok(put(client, "few", spec()), 201)
    ok(put(client, "few", spec(env={"A": "1"})))  # a rollout still pending, to supersede
    same, n_same = app_statements_of(lambda: ok(put(client, "few", spec(env={"A": "1"}))))
    new, n_new = app_statements_of(lambda: ok(put(client, "few", spec(env={"A": "2"}))))
    assert (n_same, n_new) == (3, 9), (n_same, n_new)
    assert same["revision"] == 2 and new["revision"] == 3
    got = ok(client.get("/v1/deployments/few"))
    assert new == got
    assert new["current_rollout"]["to_revision"] == 3


@pytest.mark.usefixtures("clean_db", "cache_clock")
def test_a_list_is_a_constant_number_of_statements(client: TestClient) -> None:
    """A page of N deployments (each with its revision and latest rollout) costs what a
    page of one does: no statement per deployment."""

    def page(**params: Any) -> tuple[list[str], int]:
        body, n = statements_of(lambda: ok(client.get("/v1/deployments", params=params)))
        return [d["name"] for d in body["items"]], n

    ok(put(client, "q-00", spec(labels={"team": "a"})), 201)
    one, few = page(), page(label="team=a")
    for i in range(1, 25):
        ok(put(client, f"q-{i:02d}", spec(labels={"team": "a"}, replicas=1 + i % 3)), 201)
    ok(client.post("/v1/deployments/q-03/restart"), 202)  # more than one rollout each, too
    many, more = page(), page(label="team=a")
    assert len(many[0]) == 25 and len(more[0]) == 25
    assert many[1] == one[1] and more[1] == few[1], (one, many, few, more)
    # The page with its usage, filtered in SQL too: one statement (with no autoscaler and
    # no endpoint there are no looks or edges to read). The token's check is kept. It was 4
    # and 28.
    assert many[1] == 1 and more[1] == 1, (many, more)


@pytest.mark.parametrize(
    "cursor", ["not-a-cursor!", "e30", cursor_of({"x": 1}), cursor_of("bad\u0000name")],
    ids=["garbage", "no-key", "object-key", "nul-byte"],
)
def test_invalid_list_cursor_is_422(client: TestClient, name: str, cursor: str) -> None:
    ok(put(client, name, spec()), 201)
    body = problem(client.get("/v1/deployments", params={"cursor": cursor}), 422)
    assert "query.cursor" in error_paths(body)


@pytest.fixture(scope="module")
def two_revisions(app_client: TestClient) -> str:
    client = app_client
    ensure_token()
    name = f"t-{uuid.uuid4().hex[:12]}"
    ok(put(client, name, spec()), 201)
    ok(put(client, name, spec(replicas=4)))
    return name


@pytest.mark.parametrize("path", ["revisions", "events", "rollouts", "replicas"])
@pytest.mark.parametrize("key", ["abc", None, 1.5, True, [1, "x", 3], 2**70],
                         ids=["str", "null", "float", "bool", "list", "huge"])
def test_a_cursor_of_the_wrong_kind_is_422_on_every_list(
    client: TestClient, two_revisions: str, path: str, key: Any
) -> None:
    resp = client.get(f"/v1/deployments/{two_revisions}/{path}", params={"cursor": cursor_of(key)})
    assert "query.cursor" in error_paths(problem(resp, 422))


def test_limit_bounds(client: TestClient, name: str) -> None:
    problem(client.get("/v1/deployments", params={"limit": 0}), 422)
    problem(client.get("/v1/deployments", params={"limit": 501}), 422)
    ok(client.get("/v1/deployments", params={"limit": 500}))


# -- revisions ---------------------------------------------------------------------------


def test_revisions_list_and_get(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    ok(put(client, name, spec(image="nginx:1.28")))
    ok(put(client, name, spec(image="nginx:1.29")))

    assert revision_numbers(client, name) == [3, 2, 1]
    first = ok(client.get(f"/v1/deployments/{name}/revisions/1"))
    assert first["number"] == 1
    assert first["spec"]["image"] == "nginx:1.27"
    assert ok(client.get(f"/v1/deployments/{name}/revisions/3"))["spec"]["image"] == "nginx:1.29"

    # Paging through revisions, one at a time.
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = ok(client.get(f"/v1/deployments/{name}/revisions", params=params))
        seen += [r["number"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [3, 2, 1]

    problem(client.get(f"/v1/deployments/{name}/revisions/4"), 404)
    problem(client.get("/v1/deployments/ghost/revisions/1"), 404)
    problem(client.get("/v1/deployments/ghost/revisions"), 404)
    problem(client.get(f"/v1/deployments/{name}/revisions/0"), 422)
    problem(client.get(f"/v1/deployments/{name}/revisions/abc"), 422)
    problem(client.get(f"/v1/deployments/{name}/revisions/{2**40}"), 422)


# -- delete ------------------------------------------------------------------------------


def test_delete_starts_a_delete_rollout(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    rollout = ok(client.delete(f"/v1/deployments/{name}"), 202)
    assert rollout["kind"] == "delete"
    assert rollout["deployment"] == name
    assert rollout["state"] == "pending"
    assert rollout["progress"]["desired"] == 0

    current = get(client, name)
    assert current["status"]["phase"] == "deleting"
    assert current["current_rollout"]["id"] == rollout["id"]
    assert current["resource_version"] == 2
    assert ok(client.get(f"/v1/rollouts/{rollout['id']}"))["kind"] == "delete"
    # The create rollout it replaces is over.
    create = next(r for r in rollouts_of(client, name) if r["kind"] == "create")
    assert create["state"] == "superseded"
    assert "DeleteRequested" in [e["reason"] for e in events_of(client, name)]

    # Deleting again is the same request, not a second rollout.
    again = ok(client.delete(f"/v1/deployments/{name}"), 202)
    assert again["id"] == rollout["id"]
    assert len(rollouts_of(client, name)) == 2
    # A deployment on its way out takes no new spec.
    problem(put(client, name, spec(image="nginx:1.28")), 409)
    assert revision_numbers(client, name) == [1]


def test_delete_of_a_missing_deployment_is_404(client: TestClient, name: str) -> None:
    problem(client.delete("/v1/deployments/ghost"), 404)


# -- rollback ----------------------------------------------------------------------------


def test_rollback_to_revision_one(client: TestClient, name: str) -> None:
    ok(put(client, name, spec(secrets={"TOKEN": SECRET})), 201)
    ok(put(client, name, spec(image="nginx:1.28", replicas=4, secrets={"TOKEN": OTHER_SECRET})))

    resp = client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1})
    rollout = ok(resp, 202)
    assert (rollout["kind"], rollout["from_revision"], rollout["to_revision"]) == ("rollback", 2, 3)
    assert rollout["state"] == "pending"

    rev1 = ok(client.get(f"/v1/deployments/{name}/revisions/1"))
    rev3 = ok(client.get(f"/v1/deployments/{name}/revisions/3"))
    assert rev3["spec"] == rev1["spec"]
    current = get(client, name)
    assert current["revision"] == 3
    assert current["spec"]["image"] == "nginx:1.27"
    assert current["current_rollout"]["id"] == rollout["id"]

    # Without a body: back to the previous revision (2).
    rollout = ok(client.post(f"/v1/deployments/{name}/rollback"), 202)
    assert rollout["to_revision"] == 4
    assert get(client, name)["spec"]["image"] == "nginx:1.28"
    assert SECRET not in resp.text and OTHER_SECRET not in resp.text


def test_a_revision_stored_under_another_api_model_still_loads_and_rolls_back(
    client: TestClient, name: str
) -> None:
    """A field the API has since renamed or dropped, in a stored revision (its spec and
    its template): the request model (extra="forbid") would refuse it, but neither the
    workers nor a rollback read it with that model. The old field is simply ignored."""
    import sqlalchemy as sa

    from app.config import get_settings
    from app.db import get_engine, session_scope
    from app.repositories import deployments as deployment_repo
    from app.services.reconciler.context import load

    ok(put(client, name, spec(env={"A": "1"})), 201)
    ok(put(client, name, spec(image="nginx:1.28", replicas=3)))
    with session_scope() as session:
        deployment_id = deployment_repo.get_by_name(session, name).id
    with get_engine().begin() as conn:
        conn.execute(sa.text(
            "UPDATE revision SET spec = (spec::jsonb || '{\"stop_signal\": \"TERM\"}')::json, "
            "template = jsonb_set(template::jsonb, '{container,stop_signal}', '\"TERM\"')::json "
            "WHERE deployment_id = :d"), {"d": deployment_id})

    ctx = load(deployment_id, get_settings(), on_generation=lambda _g: None)
    assert ctx is not None
    assert (ctx.template.container.image, ctx.desired.replicas) == ("nginx:1.28", 3)

    rollout = ok(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1}), 202)
    assert (rollout["kind"], rollout["to_revision"]) == ("rollback", 3)
    current = get(client, name)
    assert (current["spec"]["image"], current["spec"]["replicas"]) == ("nginx:1.27", 3)
    ctx = load(deployment_id, get_settings(), on_generation=lambda _g: None)
    assert ctx is not None and ctx.template.container.image == "nginx:1.27"


def test_rollback_needs_a_previous_revision(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    problem(client.post(f"/v1/deployments/{name}/rollback"), 409)
    problem(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1}), 409)
    problem(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 9}), 404)
    problem(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 0}), 422)
    problem(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 2**40}), 422)
    problem(client.post(f"/v1/deployments/{name}/rollback", json={"revision": True}), 422)
    problem(client.post(f"/v1/deployments/{name}/rollback", json=[1]), 422)
    problem(client.post(f"/v1/deployments/{name}/rollback", json={"revison": 1}), 422)
    problem(client.post("/v1/deployments/ghost/rollback"), 404)
    assert revision_numbers(client, name) == [1]
    assert len(rollouts_of(client, name)) == 1


def test_rollback_to_a_revision_equal_to_the_current_spec_is_409(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    ok(put(client, name, spec(image="nginx:1.28")))
    ok(put(client, name, spec()))  # revision 3 == revision 1
    body = problem(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1}), 409)
    assert body["detail"]
    assert revision_numbers(client, name) == [3, 2, 1]
    assert len(rollouts_of(client, name)) == 3


# -- dry run -----------------------------------------------------------------------------


def test_dry_run_put_changes_nothing_and_explains(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    before = get(client, name)

    resp = client.put(
        f"/v1/deployments/{name}", params={"dry_run": "true"},
        json=spec(image="nginx:1.28", replicas=3),
    )
    body = ok(resp)
    assert body["dry_run"] is True
    assert body["new_revision"] is True
    assert body["revision"] == 2
    changes = {c["path"]: (c["old"], c["new"]) for c in body["changes"]}
    assert changes == {"image": ("nginx:1.27", "nginx:1.28"), "replicas": (2, 3)}
    assert isinstance(body["actions"], list)

    after = get(client, name)
    assert after["resource_version"] == before["resource_version"] == 1
    assert after["spec"] == before["spec"]
    assert revision_numbers(client, name) == [1]
    assert len(rollouts_of(client, name)) == 1

    same = ok(client.put(f"/v1/deployments/{name}", params={"dry_run": "true"}, json=spec()))
    assert same["new_revision"] is False
    assert same["revision"] == 1
    assert same["changes"] == []


def test_dry_run_patch_changes_nothing(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    body = ok(client.patch(
        f"/v1/deployments/{name}", params={"dry_run": "true"},
        json={"replicas": 4, "env": {"A": None}, "update_strategy": {"max_surge": 2}},
    ))
    assert body["new_revision"] is True
    paths = sorted(c["path"] for c in body["changes"])
    assert paths == ["env.A", "replicas", "update_strategy.max_surge"]
    assert isinstance(body["actions"], list)
    current = get(client, name)
    assert current["resource_version"] == 1
    assert current["spec"]["replicas"] == 2
    assert current["spec"]["env"] == {"A": "1", "B": "2"}
    assert revision_numbers(client, name) == [1]
    assert len(rollouts_of(client, name)) == 1


@pytest.mark.usefixtures("clean_db")
def test_dry_run_of_a_new_deployment_creates_nothing(client: TestClient) -> None:
    body = ok(client.put("/v1/deployments/fresh", params={"dry_run": "true"}, json=spec()))
    assert body["new_revision"] is True
    assert body["revision"] == 1
    assert {"image", "replicas"} <= {c["path"] for c in body["changes"]}
    problem(client.get("/v1/deployments/fresh"), 404)
    assert ok(client.get("/v1/deployments"))["items"] == []


def test_a_dry_run_refuses_what_its_apply_would(client: TestClient, name: str) -> None:
    dry = {"dry_run": "true"}
    merge = {"Content-Type": "application/merge-patch+json"}
    stale = {"If-Match": '"99999"'}
    problem(put(client, "nothing-yet", spec(), params=dry, headers=stale), 412)  # a create
    ok(put(client, name, spec()), 201)
    problem(put(client, name, spec(replicas=3), params=dry, headers=stale), 412)
    problem(client.patch(f"/v1/deployments/{name}", params=dry, json={"replicas": 3},
                         headers={**merge, **stale}), 412)
    ok(client.delete(f"/v1/deployments/{name}"), 202)
    problem(put(client, name, spec(replicas=3), params=dry), 409)
    problem(client.patch(f"/v1/deployments/{name}", params=dry, json={"replicas": 3},
                         headers=merge), 409)
    # A stack's service is changed through its stack only, before its release has made
    # its deployment too: a dry run says so as its apply does.
    ok(client.put("/v1/stacks/shop", json={"compose": "services:\n  web:\n    image: nginx:1.27\n",
                                           "secrets": {}}), 201)
    problem(get_response(client, "shop-web"), 404)  # no worker here: not made yet
    for params in (dry, None):
        body = problem(put(client, "shop-web", spec(), params=params), 409)
        assert "stack 'shop'" in body["detail"], body
    problem(get_response(client, "shop-web"), 404)


def get_response(client: TestClient, name: str) -> httpx.Response:
    return client.get(f"/v1/deployments/{name}")


# -- superseding -------------------------------------------------------------------------


def test_a_second_apply_supersedes_the_pending_rollout(client: TestClient, name: str) -> None:
    first = ok(put(client, name, spec()), 201)["current_rollout"]
    second = ok(put(client, name, spec(image="nginx:1.28")))["current_rollout"]
    assert second["id"] != first["id"]

    old = ok(client.get(f"/v1/rollouts/{first['id']}"))
    assert old["state"] == "superseded"
    assert old["finished_at"] is not None
    assert second["id"] in old["message"]
    new = ok(client.get(f"/v1/rollouts/{second['id']}"))
    assert new["state"] == "pending"
    assert new["finished_at"] is None

    # A scale supersedes the update in turn.
    third = ok(put(client, name, spec(image="nginx:1.28", replicas=5)))["current_rollout"]
    assert ok(client.get(f"/v1/rollouts/{second['id']}"))["state"] == "superseded"
    states = {r["id"]: r["state"] for r in rollouts_of(client, name)}
    assert list(states.values()).count("pending") == 1
    assert states[third["id"]] == "pending"


# -- rollouts ----------------------------------------------------------------------------


def test_get_rollout(client: TestClient, name: str) -> None:
    created = ok(put(client, name, spec()), 201)["current_rollout"]
    rollout = ok(client.get(f"/v1/rollouts/{created['id']}"))
    assert rollout == created
    problem(client.get(f"/v1/rollouts/{uuid.uuid4()}"), 404)
    body = problem(client.get("/v1/rollouts/not-a-uuid"), 422)
    assert "path.rollout_id" in error_paths(body)
    problem(client.get(f"/v1/rollouts/{created['id']}", params={"wait": -1}), 422)
    problem(client.get(f"/v1/rollouts/{created['id']}", params={"wait": 301}), 422)


def test_wait_holds_a_pending_rollout_until_the_wait_ends(client: TestClient, name: str) -> None:
    rollout_id = ok(put(client, name, spec()), 201)["current_rollout"]["id"]
    started = time.monotonic()
    body = ok(client.get(f"/v1/rollouts/{rollout_id}", params={"wait": 1}))
    elapsed = time.monotonic() - started
    assert elapsed >= 0.9
    assert body["state"] == "pending"


def test_wait_answers_at_once_for_a_finished_rollout(client: TestClient, name: str) -> None:
    first = ok(put(client, name, spec()), 201)["current_rollout"]["id"]
    ok(put(client, name, spec(image="nginx:1.28")))  # supersedes the first
    started = time.monotonic()
    body = ok(client.get(f"/v1/rollouts/{first}", params={"wait": 30}))
    assert body["state"] == "superseded"
    assert time.monotonic() - started < 5  # not held until the wait ends


# -- events ------------------------------------------------------------------------------


def test_events_after_an_id_in_order(client: TestClient, name: str) -> None:
    ok(put(client, name, spec()), 201)
    ok(put(client, name, spec(image="nginx:1.28")))
    ok(put(client, name, spec(replicas=5, image="nginx:1.28")))
    ok(client.delete(f"/v1/deployments/{name}"), 202)

    events = events_of(client, name)
    ids = [e["id"] for e in events]
    # Each change supersedes the rollout before it, and says so.
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 7
    assert [e["reason"] for e in events] == [
        "RevisionCreated", "RolloutSuperseded", "RevisionCreated", "RolloutSuperseded",
        "Scaled", "RolloutSuperseded", "DeleteRequested"]
    assert all(e["rollout_id"] for e in events)
    assert "nginx:1.27" in events[2]["message"] and "nginx:1.28" in events[2]["message"]

    later = events_of(client, name, after=ids[1])
    assert [e["id"] for e in later] == ids[2:]
    assert events_of(client, name, after=ids[-1]) == []
    assert [e["id"] for e in events_of(client, name, after=0)] == ids

    # Paging through events with the cursor.
    page = ok(client.get(f"/v1/deployments/{name}/events", params={"limit": 3}))
    assert [e["id"] for e in page["items"]] == ids[:3]
    rest = ok(client.get(f"/v1/deployments/{name}/events",
                         params={"limit": 3, "cursor": page["next_cursor"]}))
    assert [e["id"] for e in rest["items"]] == ids[3:6]

    problem(client.get("/v1/deployments/ghost/events"), 404)
    problem(client.get(f"/v1/deployments/{name}/events", params={"after": -1}), 422)
    # An id beyond any the database can hold is a 422 (or simply nothing after it).
    resp = client.get(f"/v1/deployments/{name}/events", params={"after": 10**30})
    assert resp.status_code in (200, 422), resp.text
    if resp.status_code == 200:
        assert resp.json()["items"] == []


# -- validation --------------------------------------------------------------------------

INVALID_SPECS = [
    ("replicas-negative", spec(replicas=-1), "body.replicas"),
    ("replicas-too-many", spec(replicas=1001), "body.replicas"),
    ("replicas-not-int", spec(replicas="two"), "body.replicas"),
    ("port-zero", spec(ports=[{"container_port": 0}]), "body.ports.0.container_port"),
    ("port-too-big", spec(ports=[{"container_port": 70000}]), "body.ports.0.container_port"),
    ("host-port-too-big", spec(ports=[{"container_port": 80, "host_port": 70000}]),
     "body.ports.0.host_port"),
    ("port-duplicate", spec(ports=[{"container_port": 80}, {"container_port": 80}]), "body.ports"),
    ("host-port-duplicate",
     spec(ports=[{"container_port": 80, "host_port": 8080},
                 {"container_port": 81, "host_port": 8080}]), "body.ports"),
    ("protocol", spec(ports=[{"container_port": 80, "protocol": "sctp"}]),
     "body.ports.0.protocol"),
    ("host-ip", spec(ports=[{"container_port": 80, "host_ip": "localhost"}]),
     "body.ports.0.host_ip"),
    ("restart-policy", spec(restart_policy="sometimes"), "body.restart_policy"),
    ("image-uppercase", spec(image="Nginx"), "body.image"),
    ("image-two-tags", spec(image="a:b:c"), "body.image"),
    ("image-empty", spec(image=""), "body.image"),
    ("image-bad-digest", spec(image="nginx@sha256:abc"), "body.image"),
    ("image-missing", {"replicas": 1}, "body.image"),
    ("unknown-field", {**spec(), "replica": 3}, "body.replica"),
    ("unknown-nested-field", spec(update_strategy={"max_surge": 1, "maxUnavailable": 1}),
     "body.update_strategy.maxUnavailable"),
    ("env-key", spec(env={"1BAD": "x"}), "body.env.1BAD"),
    ("env-value-not-string", spec(env={"A": 1}), "body.env.A"),
    ("env-secret-overlap", spec(env={"A": "1"}, secrets={"A": SECRET}), "body.secrets"),
    ("health-two-kinds",
     spec(health_check={"http": {"path": "/", "port": 80}, "tcp": {"port": 80}}),
     "body.health_check"),
    ("health-no-kind", spec(health_check={"interval_s": 5}), "body.health_check"),
    ("health-path", spec(health_check={"http": {"path": "healthz", "port": 80}}),
     "body.health_check.http.path"),
    ("strategy-cannot-progress", spec(update_strategy={"max_surge": 0, "max_unavailable": 0}),
     "body.update_strategy"),
    ("constraint", spec(placement={"constraints": ["region~eu"]}), "body.placement.constraints"),
    ("label-reserved", spec(labels={"moorage.x": "1"}), "body.labels"),
    ("label-key", spec(labels={"-bad": "1"}), "body.labels.-bad"),
    ("volume-target", spec(volumes=[{"source": "data", "target": "relative"}]),
     "body.volumes.0.target"),
    ("memory", spec(resources={"memory_mb": 1}), "body.resources.memory_mb"),
    ("cpus", spec(resources={"cpus": 0}), "body.resources.cpus"),
    ("env-nul", spec(env={"A": "x\u0000y"}), "body.env.A"),
    ("command-nul", spec(command=["sh", "-c", "echo \u0000"]), "body.command.2"),
    ("spec-not-object", ["image", "nginx"], "body"),
]


@pytest.mark.parametrize(
    ("body", "field"), [(b, f) for _, b, f in INVALID_SPECS], ids=[i for i, _, _ in INVALID_SPECS]
)
def test_invalid_spec_is_422_and_writes_nothing(
    client: TestClient, name: str, body: Any, field: str
) -> None:
    resp = put(client, name, body)
    details = problem(resp, 422)
    assert names_field(details, field), error_paths(details)
    assert all(e["msg"] for e in details["errors"])
    assert SECRET not in resp.text
    problem(client.get(f"/v1/deployments/{name}"), 404)
    # POST validates the same spec the same way.
    if isinstance(body, dict):
        resp = client.post("/v1/deployments", json={"name": name, **body})
        assert names_field(problem(resp, 422), field)
        problem(client.get(f"/v1/deployments/{name}"), 404)


@pytest.mark.parametrize("name", ["Web", "a" * 64, "my_app", "-web", "web-", "w.b"])
def test_bad_deployment_name_in_path_is_422(client: TestClient, name: str) -> None:
    before = ok(client.get("/v1/deployments", params={"limit": 500}))["items"]
    body = problem(put(client, name, spec()), 422)
    assert "path.name" in error_paths(body)
    problem(client.get(f"/v1/deployments/{name}"), 422)
    assert ok(client.get("/v1/deployments", params={"limit": 500}))["items"] == before


def test_longest_valid_name_is_accepted(client: TestClient, name: str) -> None:
    name = name + "a" * (63 - len(name))
    ok(put(client, name, spec()), 201)
    assert get(client, name)["name"] == name


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"replicas": -1}, "body.replicas"),
        ({"image": None}, "body.image"),
        ({"image": "a:b:c"}, "body.image"),
        ({"env": {"1BAD": "x"}}, "body.env.1BAD"),
        ({"secrets": {"A": SECRET}}, "body.secrets"),  # A is already in env
        ({"replica": 3}, "body.replica"),
        ({"update_strategy": {"max_surge": 0}}, "body.update_strategy"),
        ({"ports": [{"container_port": 80}, {"container_port": 80}]}, "body.ports"),
    ],
    ids=["replicas", "remove-image", "image", "env-key", "overlap", "typo", "strategy", "ports"],
)
def test_invalid_patch_is_422_and_writes_nothing(
    client: TestClient, name: str, patch: dict[str, Any], field: str
) -> None:
    ok(put(client, name, spec(update_strategy={"max_surge": 1, "max_unavailable": 0})), 201)
    resp = client.patch(f"/v1/deployments/{name}", json=patch)
    details = problem(resp, 422)
    assert names_field(details, field), error_paths(details)
    assert SECRET not in resp.text
    current = get(client, name)
    assert current["resource_version"] == 1
    assert revision_numbers(client, name) == [1]


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"image"', b"42", b"null"],
                         ids=["array", "string", "number", "null"])
def test_patch_body_must_be_a_json_object(client: TestClient, name: str, raw: bytes) -> None:
    ok(put(client, name, spec()), 201)
    resp = client.patch(f"/v1/deployments/{name}", content=raw,
                        headers={"Content-Type": "application/merge-patch+json"})
    assert "body" in error_paths(problem(resp, 422))
    assert revision_numbers(client, name) == [1]
    assert get(client, name)["resource_version"] == 1


@pytest.mark.parametrize("method", ["put", "patch", "post"])
def test_non_json_body_is_422(client: TestClient, name: str, method: str) -> None:
    if method == "patch":
        ok(put(client, name, spec()), 201)
    url = "/v1/deployments" if method == "post" else f"/v1/deployments/{name}"
    resp = client.request(method.upper(), url, content=b"{image: nginx",
                          headers={"Content-Type": "application/json"})
    body = problem(resp, 422)
    assert any(p.startswith("body") for p in error_paths(body))
    if method == "patch":
        assert revision_numbers(client, name) == [1]
    else:
        problem(client.get(f"/v1/deployments/{name}"), 404)


def test_oversized_body_is_413(client: TestClient, name: str) -> None:
    from app.config import get_settings

    limit = get_settings().max_body_bytes
    raw = json.dumps(spec(command=["x" * 4000] * 256)).encode()  # a valid spec, only too big
    assert len(raw) > limit
    resp = client.put(f"/v1/deployments/{name}", content=raw,
                      headers={"Content-Type": "application/json"})
    body = problem(resp, 413)
    assert str(limit) in body["detail"]
    problem(client.get(f"/v1/deployments/{name}"), 404)


def test_oversized_body_without_content_length_is_413(client: TestClient, name: str) -> None:
    from app.config import get_settings

    limit = get_settings().max_body_bytes
    raw = json.dumps(spec(command=["x" * 4000] * 256)).encode()
    assert len(raw) > limit

    def chunks() -> Iterator[bytes]:  # streamed: no Content-Length to refuse up front
        for start in range(0, len(raw), 64 * 1024):
            yield raw[start:start + 64 * 1024]

    resp = client.put(f"/v1/deployments/{name}", content=chunks(),
                      headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in resp.request.headers}
    problem(resp, 413)
    problem(client.get(f"/v1/deployments/{name}"), 404)


def test_a_large_body_under_the_limit_is_read(client: TestClient, name: str) -> None:
    # The limit is on size only: a large valid spec below it goes through.
    resp = put(client, name, spec(env={f"K{i}": "x" * 1000 for i in range(200)}))
    assert ok(resp, 201)["revision"] == 1


# -- secrets -----------------------------------------------------------------------------


def test_secret_values_are_never_returned(client: TestClient, name: str) -> None:
    texts: list[str] = []

    def keep(resp: httpx.Response, status: int = 200) -> Any:
        body = ok(resp, status)
        texts.append(resp.text)
        return body

    created = keep(put(client, name, spec(secrets={"DB_PASSWORD": SECRET})), 201)
    assert created["spec"]["secret_keys"] == ["DB_PASSWORD"]
    assert "secrets" not in created["spec"]
    assert "DB_PASSWORD" not in created["spec"]["env"]

    # Only the secret's value changes: a new revision whose event names the key only.
    changed = keep(put(client, name, spec(secrets={"DB_PASSWORD": OTHER_SECRET})))
    assert changed["revision"] == 2
    assert changed["current_rollout"]["kind"] == "update"
    events = keep(client.get(f"/v1/deployments/{name}/events"))["items"]
    assert "secrets.DB_PASSWORD" in events[-1]["message"]

    # The same secret again is no change at all.
    assert keep(put(client, name, spec(secrets={"DB_PASSWORD": OTHER_SECRET})))["revision"] == 2

    dry = keep(client.put(f"/v1/deployments/{name}", params={"dry_run": "true"},
                          json=spec(secrets={"DB_PASSWORD": SECRET, "API_KEY": SECRET})))
    paths = {c["path"] for c in dry["changes"]}
    assert paths == {"secrets.DB_PASSWORD", "secrets.API_KEY"}
    dry_patch = keep(client.patch(f"/v1/deployments/{name}", params={"dry_run": "true"},
                                  json={"secrets": {"DB_PASSWORD": SECRET}}))
    assert [c["path"] for c in dry_patch["changes"]] == ["secrets.DB_PASSWORD"]

    # A patch keeps secrets it does not mention.
    patched = keep(client.patch(f"/v1/deployments/{name}", json={"replicas": 3}))
    assert patched["spec"]["secret_keys"] == ["DB_PASSWORD"]
    assert patched["current_rollout"]["kind"] == "scale"

    keep(client.get(f"/v1/deployments/{name}"))
    keep(client.get("/v1/deployments"))
    keep(client.get("/v1/deployments", params={"label": "team=web"}))
    keep(client.get(f"/v1/deployments/{name}/revisions"))
    for number in (1, 2):  # the scale made none
        rev = keep(client.get(f"/v1/deployments/{name}/revisions/{number}"))
        assert rev["spec"]["secret_keys"] == ["DB_PASSWORD"]
    rollouts = keep(client.get(f"/v1/deployments/{name}/rollouts"))["items"]
    for r in rollouts:
        keep(client.get(f"/v1/rollouts/{r['id']}"))
    keep(client.get(f"/v1/deployments/{name}/events"))
    rollback = keep(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1}), 202)
    keep(client.get(f"/v1/rollouts/{rollback['id']}"))
    keep(client.get(f"/v1/deployments/{name}/events"))
    keep(client.delete(f"/v1/deployments/{name}"), 202)
    keep(client.get(f"/v1/deployments/{name}/events"))

    for text in texts:
        assert SECRET not in text
        assert OTHER_SECRET not in text


def test_removing_a_secret_is_a_change_that_names_the_key(client: TestClient, name: str) -> None:
    ok(put(client, name, spec(secrets={"DB_PASSWORD": SECRET, "KEEP": OTHER_SECRET})), 201)
    resp = client.patch(f"/v1/deployments/{name}", json={"secrets": {"DB_PASSWORD": None}})
    body = ok(resp)
    assert body["revision"] == 2
    assert body["spec"]["secret_keys"] == ["KEEP"]
    events = events_of(client, name)
    assert "secrets.DB_PASSWORD" in events[-1]["message"]
    for text in (resp.text, json.dumps(events)):
        assert SECRET not in text and OTHER_SECRET not in text


# -- operations --------------------------------------------------------------------------


def test_v1_needs_a_token_and_operations_do_not(client: TestClient, name: str) -> None:
    from app.main import create_app

    with TestClient(create_app()) as anonymous:
        problem(anonymous.get("/v1/deployments"), 401)
        problem(anonymous.put(f"/v1/deployments/{name}", json=spec()), 401)
        problem(anonymous.get("/v1/deployments", headers={"Authorization": "Bearer mrg_nope"}), 401)
        for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
            assert anonymous.get(path).status_code == 200, path
    problem(client.get(f"/v1/deployments/{name}"), 404)  # the PUT above wrote nothing


def test_health_and_readiness(client: TestClient, name: str) -> None:
    assert ok(client.get("/healthz")) == {"status": "ok"}
    ready = ok(client.get("/readyz"))
    assert ready["status"] == "ready"
    assert {name: c["ok"] for name, c in ready["checks"].items()} == {
        "database": True, "broker": True}


def test_metrics_are_prometheus_text(client: TestClient, name: str) -> None:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    assert "# TYPE" in resp.text


def test_every_operation_has_a_unique_operation_id_and_a_tag(client: TestClient, name: str) -> None:
    schema = ok(client.get("/openapi.json"))
    ids: list[str] = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "put", "post", "patch", "delete", "head", "options"):
                continue
            assert operation.get("operationId"), f"{method.upper()} {path} has no operationId"
            assert operation.get("tags"), f"{method.upper()} {path} has no tag"
            ids.append(operation["operationId"])
    assert len(ids) >= 15
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert {"apply_deployment", "create_deployment", "patch_deployment", "get_rollout"} <= set(ids)


def test_unknown_route_is_a_problem(client: TestClient, name: str) -> None:
    problem(client.get("/v1/nothing-here"), 404)
    problem(client.post(f"/v1/deployments/{name}/revisions"), 405)


# -- restart -----------------------------------------------------------------------------


def test_restart_is_a_new_revision_of_the_same_spec(client: TestClient, name: str) -> None:
    created = ok(put(client, name, spec(secrets={"TOKEN": SECRET})), 201)
    resp = client.post(f"/v1/deployments/{name}/restart")
    rollout = ok(resp, 202)
    assert (rollout["kind"], rollout["from_revision"], rollout["to_revision"]) == ("restart", 1, 2)
    assert SECRET not in resp.text
    current = get(client, name)
    assert current["revision"] == 2
    assert current["spec"] == created["spec"]
    assert ok(client.get(f"/v1/rollouts/{created['current_rollout']['id']}"))["state"] == "superseded"
    # Applying the same spec after a restart is still a no-op.
    assert ok(put(client, name, spec(secrets={"TOKEN": SECRET})))["revision"] == 2

    problem(client.post(f"/v1/deployments/{name}/restart", headers={"If-Match": '"1"'}), 412)
    problem(client.post("/v1/deployments/ghost/restart"), 404)
    ok(client.delete(f"/v1/deployments/{name}"), 202)
    problem(client.post(f"/v1/deployments/{name}/restart"), 409)
    assert revision_numbers(client, name) == [2, 1]


def _furnish(names: list[str], replicas: int = 2, samples: int = 2) -> None:
    """Give each deployment all a view can show: replicas on a host, fresh usage samples
    of them, the autoscaler's last look (the PUT set autoscale and an endpoint)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from app.db import session_scope
    from app.models import AutoscalerState, Deployment, Host, Replica, UsageSample

    with session_scope() as session:
        host = session.scalar(select(Host).where(Host.name == "edge-q"))
        if host is None:
            host = Host(name="edge-q", url="unix:///nowhere.sock", state="ready",
                        edge=True, edge_address="10.9.8.7")
            session.add(host)
            session.flush()
        now = datetime.now(UTC)
        for d in session.scalars(select(Deployment).where(Deployment.name.in_(names))):
            for slot in range(replicas):
                cid = f"{d.name}-{slot}-{uuid.uuid4().hex[:6]}"
                session.add(Replica(deployment_id=d.id, host_id=host.id, slot=slot,
                                    revision=d.revision, template_hash="0" * 64, container_id=cid,
                                    container_name=cid, state="running", health="healthy"))
                for k in range(samples):
                    session.add(UsageSample(deployment_id=d.id, container_id=cid,
                                            sampled_at=now - timedelta(seconds=k), cpu_percent=5.0,
                                            memory_bytes=1 << 20, cpu_total_ns=k, online_cpus=2))
            if session.get(AutoscalerState, d.id) is None:
                session.add(AutoscalerState(deployment_id=d.id, memory={}, current_replicas=2,
                                            desired_replicas=2, recommendation=2,
                                            message="steady", decided_at=now))


@pytest.mark.usefixtures("clean_db", "cache_clock")
def test_lists_and_gets_are_a_constant_number_of_statements_with_everything_present(
        client: TestClient) -> None:
    """With replicas, usage, rollouts, autoscale and an endpoint on every deployment, a
    page of 50 costs the statements a page of 1 does, and a GET of a deployment with many
    replicas, samples and rollouts what one with a single each does."""
    full = spec(autoscale={"min_replicas": 1, "max_replicas": 4, "target_cpu_percent": 50},
                endpoint={"port": 8080, "hostnames": ["q.example.test"]})

    def statements(path: str, **params: Any) -> tuple[Any, int]:
        return statements_of(lambda: ok(client.get(path, params=params)))

    ok(put(client, "q-00", full), 201)
    _furnish(["q-00"], replicas=1, samples=1)
    ok(client.get("/v1/deployments/q-00"))  # the token's check is kept from here on
    one_page, one_list = statements("/v1/deployments")
    one, one_get = statements("/v1/deployments/q-00")
    assert len(one_page["items"]) == 1
    assert one["status"]["usage"]["replicas"] == 1 and one["status"]["autoscaler"]
    assert one["endpoint"]["urls"] and one["current_rollout"]

    names = [f"q-{i:02d}" for i in range(1, 50)]
    for n in names:
        ok(put(client, n, full), 201)
    ok(put(client, "q-00", {**full, "env": {"A": "2"}}))  # a second revision and rollout
    ok(client.post("/v1/deployments/q-00/restart"), 202)  # and a third rollout
    _furnish(names)
    _furnish(["q-00"], replicas=4, samples=3)
    ok(client.get("/v1/deployments/q-00"))
    many_page, many_list = statements("/v1/deployments")
    many, many_get = statements("/v1/deployments/q-00")
    assert len(many_page["items"]) == 50
    assert all(d["status"]["usage"] and d["status"]["autoscaler"] and d["endpoint"]["urls"]
               and d["current_rollout"] for d in many_page["items"])
    # Each replica's newest sample once (not its older ones), summed: 5 replicas at 5%, 1 MiB.
    usage = many["status"]["usage"]
    assert (usage["replicas"], usage["cpu_percent"], usage["memory_bytes"]) == (5, 25.0, 5 << 20)
    assert usage["sampled_at"] is not None
    assert many_list == one_list, (one_list, many_list)
    assert many_get == one_get, (one_get, many_get)
    # The page (deployment, revision, latest rollout, stack and usage: one statement), its
    # autoscalers' looks, the edges; no statement for the token (its check is kept).
    assert many_list == 3 and many_get == 3, (many_list, many_get)


@pytest.mark.usefixtures("clean_db")
def test_the_views_read_through_the_driver_are_the_rows_sqlalchemy_reads(
        client: TestClient) -> None:
    """``app.db.select_rows`` hands the views' statements to psycopg directly: each row,
    value and type (aware UTC datetimes, UUIDs, summed usage), is what SQLAlchemy's own
    execution of the same statement gives, for every form of the statement."""
    from sqlalchemy import text

    from app.db import select_rows, session_scope
    from app.repositories import deployments as repo
    from app.services import usage as usage_service

    full = spec(autoscale={"min_replicas": 1, "max_replicas": 4, "target_cpu_percent": 50},
                endpoint={"port": 8080, "hostnames": ["q.example.test"]},
                labels={"team": "blue"})
    for n in ("r-0", "r-1", "r-2"):
        ok(put(client, n, full), 201)
    ok(put(client, "r-0", {**full, "env": {"A": "2"}}))
    _furnish(["r-0", "r-1"], replicas=2, samples=2)
    since = usage_service.fresh_since()
    with session_scope() as session:
        session.execute(text("SET LOCAL TIME ZONE 'Asia/Tokyo'"))  # datetimes come as +09:00
        first = repo.find_by_name(session, "r-0")
        assert first is not None
        forms = [
            (repo._VIEW_BY_NAME, {"view_name": "r-0"}),
            (repo._VIEW_BY_NAME, {"view_name": "nothing"}),
            (repo._VIEW_BY_ID, {"view_id": first.id}),
            (repo._VIEWS_BY_NAMES, {"view_names": ["r-2", "nothing", "r-0"]}),
            (repo._VIEWS_BY_NAMES, {"view_names": []}),
            (repo._PAGES[False, False], {"page_limit": 10}),
            (repo._PAGES[True, False], {"page_limit": 10, "after": "r-0"}),
            (repo._PAGES[False, True], {"page_limit": 10, "label_key": "team",
                                        "label_value": "blue"}),
        ]
        for statement, params in forms:
            params = {**params, "usage_since": since}
            expected = [tuple(row) for row in session.execute(statement, params).all()]
            for _ in range(7):  # past psycopg's prepare threshold (5): prepared reads too
                got = select_rows(session, statement, params)
                assert got == expected
                assert [[(type(v), getattr(v, "tzinfo", None)) for v in row] for row in got] \
                    == [[(type(v), getattr(v, "tzinfo", None)) for v in row] for row in expected]
        assert any(row[-1] is not None for row in select_rows(
            session, repo._VIEW_BY_NAME, {"view_name": "r-0", "usage_since": since}))


@pytest.mark.usefixtures("clean_db", "cache_clock")
def test_gets_arriving_together_share_a_statement_and_each_gets_its_own_answer(
        client: TestClient) -> None:
    """While one GET's read is held up, the GETs that arrive meanwhile (of several names,
    one that does not exist) are read together, a few statements for all of them, once
    it is done; each answer is what a GET alone shows, a 404 for the missing one."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import event

    from app.db import get_read_engine

    names = [f"c-{i}" for i in range(5)]
    for n in names:
        ok(put(client, n, spec(env={"N": n})), 201)
    alone = {n: client.get(f"/v1/deployments/{n}") for n in names}
    asked = [*names * 4, "c-missing"]
    reads = getattr(get_read_engine(), "sync_engine", get_read_engine())
    views, held = [], threading.Event()

    def hold_the_first(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM deployment" in statement and not held.is_set():
            held.set()
            time.sleep(0.5)  # blocks the app's event loop: the other GETs queue meanwhile
        views.append(params)

    event.listen(reads, "before_cursor_execute", hold_the_first)
    try:
        with ThreadPoolExecutor(len(asked)) as pool:
            first = pool.submit(client.get, "/v1/deployments/c-0")
            assert held.wait(10)
            answers = list(pool.map(lambda n: client.get(f"/v1/deployments/{n}"), asked))
            assert first.result().json() == alone["c-0"].json()
    finally:
        event.remove(reads, "before_cursor_execute", hold_the_first)
    for n, r in zip(asked, answers, strict=True):
        if n == "c-missing":
            assert r.status_code == 404 and r.json()["title"] == "Not Found", r.text
        else:
            assert r.status_code == 200 and r.json() == alone[n].json()
            assert r.headers["ETag"] == alone[n].headers["ETag"]
    view_reads = [p["view_names"] for p in views if "view_names" in p]
    # The held one, then those that came meanwhile, in a few batches (a GET reaches the
    # read after some turns of the loop of its own), each name once a batch: not a
    # statement a GET.
    assert view_reads[0] == ["c-0"] and 2 <= len(view_reads) <= len(asked) // 3, view_reads
    assert all(len(set(batch)) == len(batch) for batch in view_reads), view_reads
    assert {n for batch in view_reads[1:] for n in batch} == {*names, "c-missing"}


@pytest.mark.usefixtures("clean_db")
def test_a_get_after_a_put_shows_it_though_a_read_of_it_was_in_flight(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GET that arrives while an earlier GET's read of the same deployment is in flight
    (its rows read, its answer not yet given) does not share that read: sent after a
    PUT was answered, it shows the PUT."""
    import asyncio
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from app.api import deployments as api

    ok(put(client, "rw", spec(env={"V": "0"})), 201)
    read, held = api._views_shown._fetch, threading.Event()

    async def read_then_wait(names: list[str]) -> Any:
        found = await read(names)
        if not held.is_set():
            held.set()
            await asyncio.sleep(1.0)  # the loop goes on: the PUT and the next GET run
        return found

    monkeypatch.setattr(api._views_shown, "_fetch", read_then_wait)
    with ThreadPoolExecutor(1) as pool:
        early = pool.submit(client.get, "/v1/deployments/rw")
        assert held.wait(10)
        ok(put(client, "rw", spec(env={"V": "1"})))
        assert ok(client.get("/v1/deployments/rw"))["spec"]["env"]["V"] == "1"
        assert ok(early.result())["spec"]["env"]["V"] == "0"  # it was read before the PUT
