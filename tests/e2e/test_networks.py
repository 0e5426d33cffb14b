"""Networks and discovery by name on real engines: members of a network reach each other
by deployment name, a deployment not on it cannot, the network goes with its last member,
members on two hosts are told that names do not resolve across hosts, and nothing
Moorage did not make (networks, containers) is ever joined, left or removed.

Two engines of this module's own (61, 62), started with ``--dns`` at their own bridge
address, where nothing answers: a name the engine's DNS does not know fails there at
once instead of being asked of the machine's resolver (tests send no traffic out).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import Stack, running_stack, wait_for
from tests.support import dockerd
from tests.support.parallel import engine_index

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

ENGINES = tuple(map(engine_index, (61, 62)))
ZONES = {"h1": {"zone": "a"}, "h2": {"zone": "b"}}
# busybox nc: an HTTP request by name (its wget crashes on -T, and nc needs no port name).
GET_VERSION = "printf 'GET /version HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} 8080"


def _engine(index: int) -> dockerd.Engine:
    return dockerd.Engine(index, extra_args=(f"--dns={dockerd.Engine(index).gateway}",))


def _started_with_our_dns(engine: dockerd.Engine) -> bool:
    pid = engine.pid()
    if pid is None:
        return False
    return f"--dns={engine.gateway}" in Path(f"/proc/{pid}/cmdline").read_text()


@pytest.fixture(scope="module")
def net_engines() -> list[dockerd.Engine]:
    try:
        dockerd.require_tools()
        engines = [_engine(i) for i in ENGINES]
        for e in engines:
            if e.is_up() and not _started_with_our_dns(e):
                e.stop()  # ours (61, 62), started without the --dns this module needs
            e.start()
        dockerd.ensure_test_images(engines)
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    return engines


@pytest.fixture
def fleet(clean_db, net_engines: list[dockerd.Engine], tmp_path: Path) -> Iterator[Stack]:
    hosts = dict(zip(ZONES, net_engines, strict=True))
    for e in net_engines:
        _forget_foreign(e)
    # A short drift check: a member placed first hears of one placed later soon.
    with running_stack(tmp_path, hosts, ZONES, MOORAGE_DRIFT_CHECK_INTERVAL_S="2") as s:
        s.hosts = hosts  # type: ignore[attr-defined]
        yield s
    for e in net_engines:
        _forget_foreign(e)
        e.remove_managed_networks()  # what a failed test of Moorage's may have left


FOREIGN_LABEL = "moorage-test.foreign=true"


def _forget_foreign(e: dockerd.Engine) -> None:
    e.remove_all_containers(FOREIGN_LABEL)
    for network in _networks(e):
        if network["Labels"].get("moorage-test.foreign") == "true":
            e.docker("network", "rm", network["Name"], check=False)


def _networks(e: dockerd.Engine) -> list[dict]:
    ids = e.docker("network", "ls", "-q", "--no-trunc").stdout.split()
    return json.loads(e.docker("network", "inspect", *ids).stdout) if ids else []


def _network(e: dockerd.Engine, name: str) -> dict | None:
    return next((n for n in _networks(e) if n["Name"] == name), None)


def _apply(stack: Stack, name: str, **spec) -> dict:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json={"image": dockerd.WEB_V1, **spec})
        assert r.status_code in (200, 201), r.text
        return r.json()


def _rolled_out(stack: Stack, name: str, **spec) -> dict:
    d = _apply(stack, name, **spec)
    rollout = stack.wait_rollout(d["current_rollout"]["id"])
    assert rollout["state"] == "succeeded", rollout
    return d


def _delete(stack: Stack, name: str) -> None:
    with stack.client() as c:
        assert c.delete(f"/v1/deployments/{name}").status_code == 202
        wait_for(lambda: c.get(f"/v1/deployments/{name}").status_code == 404, 60,
                 f"{name} to be deleted")


def _exec(e: dockerd.Engine, container: str, script: str) -> tuple[int, str]:
    proc = e.docker("exec", container, "sh", "-c", script, check=False, timeout=30)
    return proc.returncode, proc.stdout + proc.stderr


def _one_container(stack: Stack, name: str, e: dockerd.Engine) -> str:
    (c,) = [c for c in stack.containers(name, engine=e) if c["state"] == "running"][:1]
    return c["name"]


def _events(stack: Stack, name: str) -> list[dict]:
    with stack.client() as c:
        return c.get(f"/v1/deployments/{name}/events", params={"limit": 500}).json()["items"]


def _condition(stack: Stack, name: str) -> dict | None:
    conditions = stack.deployment(name)["status"]["conditions"]
    return next((c for c in conditions if c["type"] == "NamesResolve"), None)


def test_members_reach_each_other_by_name_and_a_non_member_cannot(fleet: Stack) -> None:
    h1, h2 = fleet.hosts["h1"], fleet.hosts["h2"]  # type: ignore[attr-defined]
    # What Moorage does not own: a user's network with a user's container on it.
    h1.docker("network", "create", "--label", FOREIGN_LABEL, "users-net")
    h1.docker("run", "-d", "--name", "bystander", "--label", FOREIGN_LABEL,
              "--network", "users-net", dockerd.WEB_V1)
    on_h1 = {"placement": {"constraints": ["zone==a"]}}

    _rolled_out(fleet, "db", replicas=2, networks=["shop"], **on_h1)
    _rolled_out(fleet, "web", image=dockerd.WEB_V2, networks=["shop"], **on_h1)
    _rolled_out(fleet, "loner", networks=["back"], **on_h1)  # on a network, not on shop
    _rolled_out(fleet, "plain", **on_h1)  # on none: the default bridge, as ever

    # Each member reaches the other by its deployment name and container port.
    web, db, loner = (_one_container(fleet, n, h1) for n in ("web", "db", "loner"))
    code, out = _exec(h1, web, GET_VERSION.format(host="db"))
    assert code == 0 and out.endswith("v1"), out
    code, out = _exec(h1, db, GET_VERSION.format(host="web"))
    assert code == 0 and out.endswith("v2"), out
    # The name is the deployment's: it answers for every replica of db.
    code, out = _exec(h1, web, "nslookup db")
    assert code == 0 and out.count("Address: ") == 2, out  # two replicas
    # A deployment not on shop cannot, though its own network's DNS answers it.
    code, out = _exec(h1, loner, GET_VERSION.format(host="db"))
    assert code != 0 or "200 OK" not in out, out
    code, out = _exec(h1, loner, "nslookup loner")
    assert code == 0 and "Name:\tloner" in out, out
    plain = _one_container(fleet, "plain", h1)
    code, out = _exec(h1, plain, GET_VERSION.format(host="db"))
    assert code != 0 or "200 OK" not in out, out
    plain_networks = json.loads(h1.docker("inspect", plain).stdout)[0]["NetworkSettings"]
    assert list(plain_networks["Networks"]) == ["bridge"]
    assert _condition(fleet, "plain") is None  # no networks, no word about them

    # The network is Moorage's, on the host where members run (only there), and holds
    # exactly its members' containers: the user's container joined nothing.
    shop = _network(h1, "shop")
    assert shop is not None and shop["Driver"] == "bridge"
    assert shop["Labels"]["moorage.managed"] == "true" and shop["Labels"]["moorage.installation"]
    members = sorted(c["Name"].split(".")[0] for c in shop["Containers"].values())
    assert members == ["db", "db", "web"]
    assert _network(h2, "shop") is None
    bystander = json.loads(h1.docker("inspect", "bystander").stdout)[0]
    assert list(bystander["NetworkSettings"]["Networks"]) == ["users-net"]
    assert _condition(fleet, "web")["status"] is True

    # The last member gone, the network goes; the others stay as they were.
    _delete(fleet, "web")
    assert _network(h1, "shop") is not None  # db still uses it
    _delete(fleet, "db")
    wait_for(lambda: _network(h1, "shop") is None, 30, "shop to be removed with its last member")
    assert _network(h1, "back") is not None  # loner's
    assert _network(h1, "users-net") is not None
    bystander = json.loads(h1.docker("inspect", "bystander").stdout)[0]
    assert bystander["State"]["Running"]
    assert list(bystander["NetworkSettings"]["Networks"]) == ["users-net"]
    _delete(fleet, "loner")
    wait_for(lambda: _network(h1, "back") is None, 30, "back to be removed")
    _delete(fleet, "plain")
    assert _network(h1, "users-net") is not None


def test_a_network_moorage_did_not_make_is_refused_and_never_touched(fleet: Stack) -> None:
    h1 = fleet.hosts["h1"]  # type: ignore[attr-defined]
    h1.docker("network", "create", "--label", FOREIGN_LABEL, "taken")
    h1.docker("run", "-d", "--name", "squatter", "--label", FOREIGN_LABEL,
              "--network", "taken", dockerd.WEB_V1)

    d = _apply(fleet, "shop-front", networks=["taken"], placement={"constraints": ["zone==a"]})
    rollout = fleet.wait_rollout(d["current_rollout"]["id"])
    assert rollout["state"] == "failed", rollout
    assert "a network named taken exists on this host and was not made by this Moorage" \
        in rollout["message"], rollout
    assert any(e["reason"] == "ActionFailed" and "network named taken" in e["message"]
               for e in _events(fleet, "shop-front"))
    assert fleet.containers("shop-front", all_states=True, engine=h1) == []
    taken = _network(h1, "taken")
    assert taken is not None and taken["Labels"] == {"moorage-test.foreign": "true"}
    assert [c["Name"] for c in taken["Containers"].values()] == ["squatter"]

    # A sweep on this host (it removes Moorage's own unused network) leaves it alone.
    _rolled_out(fleet, "passer-by", networks=["mine"], placement={"constraints": ["zone==a"]})
    _delete(fleet, "passer-by")
    wait_for(lambda: _network(h1, "mine") is None, 30, "Moorage's own network to be swept")
    _delete(fleet, "shop-front")
    taken = _network(h1, "taken")
    assert taken is not None and [c["Name"] for c in taken["Containers"].values()] == ["squatter"]


def test_members_on_two_hosts_are_told_names_do_not_resolve_across(fleet: Stack) -> None:
    h1, h2 = fleet.hosts["h1"], fleet.hosts["h2"]  # type: ignore[attr-defined]
    _rolled_out(fleet, "db", networks=["shop"], placement={"constraints": ["zone==a"]})
    _rolled_out(fleet, "web", networks=["shop"], placement={"constraints": ["zone==b"]})
    # Each host where a member runs has the network, made by Moorage.
    assert _network(h1, "shop") is not None and _network(h2, "shop") is not None

    said = "network shop spans hosts h1, h2 (db on h1; web on h2)"
    for name in ("web", "db"):  # db hears of it at its next look (the drift check)
        condition = wait_for(lambda n=name: (c := _condition(fleet, n)) and not c["status"]
                             and c, 30, f"{name}'s NamesResolve condition")
        assert said in condition["message"] and "endpoint" in condition["message"]
        assert said in fleet.deployment(name)["status"]["message"]
        spans = [e for e in _events(fleet, name) if e["reason"] == "NetworkSpansHosts"]
        assert len(spans) == 1 and spans[0]["type"] == "warning", spans  # said once
    code, out = _exec(h2, _one_container(fleet, "web", h2), GET_VERSION.format(host="db"))
    assert code != 0 or "200 OK" not in out, out  # as it says: db is not reachable by name

    # Together on one host, the name works, and the status says so.
    with fleet.client() as c:
        r = c.patch("/v1/deployments/web", json={"placement": {"constraints": ["zone==a"]}},
                    headers={"content-type": "application/merge-patch+json"})
        assert r.status_code == 200, r.text
    fleet.wait_rollout(r.json()["current_rollout"]["id"])
    wait_for(lambda: (c := _condition(fleet, "web")) and c["status"], 30,
             "web's NamesResolve condition to hold")
    code, out = _exec(h1, _one_container(fleet, "web", h1), GET_VERSION.format(host="db"))
    assert code == 0 and out.endswith("v1"), out
    assert any(e["reason"] == "NetworkOnOneHost" for e in _events(fleet, "web"))
    # h2 has no member left, so no network either.
    wait_for(lambda: _network(h2, "shop") is None, 30, "shop to go from h2")
