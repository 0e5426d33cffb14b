"""The endpoint core: upstreams follow readiness; the edge config is complete and stable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.reconcile import endpoints as core
from app.reconcile.types import Desired, HostState, HostView, ObservedContainer, Strategy

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOSTS = [HostView("a"), HostView("b")]
REACH = {"a": "127.0.0.1", "b": "10.0.0.2"}


def desired(min_ready_s: float = 0.0, deleting: bool = False) -> Desired:
    return Desired("web", 2, "t2", 3, strategy=Strategy(min_ready_s=min_ready_s), deleting=deleting)


def container(i: int, host: str = "a", state: str = "running", health: str = "none",
              up_s: float = 60.0, ip: str = "127.0.0.1", revision: int = 2) -> ObservedContainer:
    return ObservedContainer(
        container_id=f"c{i}", name=f"web.{i}.t2", host=host, slot=i, template_hash="t2",
        revision=revision, state=state, health=health, started_at=NOW - timedelta(seconds=up_s),
        published=((8080, ip, 30000 + i, "tcp"),),
    )


def ups(observed, removing=(), hosts=HOSTS, d=None) -> list[str]:
    return [u.address for u in core.upstreams(d or desired(), 8080, observed, hosts, REACH, removing, now=NOW)]


def test_ready_replicas_are_upstreams_at_their_published_address() -> None:
    assert ups([container(0), container(1, host="b", ip="0.0.0.0")]) == ["127.0.0.1:30000", "10.0.0.2:30001"]


def test_a_replica_not_ready_is_not_an_upstream() -> None:
    observed = [container(0, health="starting"), container(1, health="unhealthy"),
                container(2, state="exited"), container(3, state="created"), container(4)]
    assert ups(observed) == ["127.0.0.1:30004"]
    # Warming (running and healthy, short of min_ready_s): not yet.
    assert ups([container(0, up_s=0.2)], d=desired(min_ready_s=1.0)) == []


def test_a_replica_the_plan_removes_leaves_first() -> None:
    assert ups([container(0), container(1)], removing={"c1"}) == ["127.0.0.1:30000"]


def test_replicas_on_a_host_moorage_cannot_see_are_left_out() -> None:
    hosts = [HostView("a"), HostView("b", state=HostState.UNREACHABLE)]
    assert ups([container(0), container(1, host="b")], hosts=hosts) == ["127.0.0.1:30000"]


def test_nothing_is_served_while_deleting_or_without_a_published_port() -> None:
    assert ups([container(0)], d=desired(deleting=True)) == []
    unpublished = ObservedContainer("c9", "web.9.t2", "a", 9, "t2", 2, "running", started_at=NOW)
    assert ups([unpublished]) == []


def test_an_ipv6_address_is_bracketed() -> None:
    assert core.host_port("::1", 80) == "[::1]:80"
    assert core.host_port("10.0.0.1", 80) == "10.0.0.1:80"


def test_url_hosts() -> None:
    assert core.url_host("unix:///var/run/docker.sock") == "127.0.0.1"
    assert core.url_host("tcp://10.0.0.5:2376") == "10.0.0.5"
    assert core.url_host("ssh://deploy@edge-1.example.com:2222") == "edge-1.example.com"
    assert core.url_host("tcp://[fd00::5]:2376") == "fd00::5"


def test_an_edge_listening_everywhere_is_named_by_its_url() -> None:
    edge = core.EdgeView.of("a", "0.0.0.0", "tcp://203.0.113.7:2376")
    assert (edge.listen_address, edge.public_address) == ("0.0.0.0", "203.0.113.7")
    assert core.urls([edge], 20001, ["shop.example.com", "*.example.com"], 80) == [
        "http://203.0.113.7:20001/", "http://shop.example.com/"]


def test_change_is_by_address() -> None:
    a, b, c = (core.Upstream("a", f"r{i}", f"1.1.1.1:{i}", 1) for i in range(3))
    draining = core.Upstream("a", "r9", "1.1.1.1:9", 1, core.DRAINING)
    ch = core.change([a, b, draining], [b, c])
    assert ch.joined == (c,) and ch.left == (a,)
    assert core.change([a], [a]).empty


def served(name: str, port: int, addresses=(), hostnames=()) -> core.Served:
    return core.Served(name, port, tuple(hostnames), tuple(addresses), 10.0)


def test_the_edge_config_serves_every_endpoint() -> None:
    edge = core.EdgeView("a", "127.0.0.1", "127.0.0.1")
    config = core.caddy_config(edge, [served("web", 20001, ["127.0.0.1:30000"], ["shop.test"]),
                                      served("api", 20002)],
                               core.ProxyTuning(admin_listen="127.0.0.1:2999", http_port=8088))
    servers = config["apps"]["http"]["servers"]
    assert config["admin"] == {"listen": "127.0.0.1:2999"}
    assert servers["endpoint-web"]["listen"] == ["127.0.0.1:20001"]
    proxy = servers["endpoint-web"]["routes"][0]["handle"][0]
    assert proxy["upstreams"] == [{"dial": "127.0.0.1:30000"}]
    assert proxy["health_checks"]["passive"]["max_fails"] == 1
    assert proxy["load_balancing"]["retries"] >= 1
    assert servers["endpoint-api"]["routes"][0]["handle"][0]["upstreams"] == []
    assert servers["hostnames"]["listen"] == ["127.0.0.1:8088"]
    assert servers["hostnames"]["routes"][0]["match"] == [{"host": ["shop.test"]}]
    assert config["apps"]["http"]["grace_period"] == "11s"


def test_a_hostname_two_claim_goes_to_the_first_by_name() -> None:
    edge = core.EdgeView("a", "127.0.0.1", "127.0.0.1")
    config = core.caddy_config(edge, [served("b", 2, hostnames=["x.test"]), served("a", 1, hostnames=["x.test"])])
    routes = config["apps"]["http"]["servers"]["hostnames"]["routes"]
    assert len(routes) == 1 and routes[0]["handle"][0]["upstreams"] == []  # a's (no upstreams)


def test_no_endpoint_no_server() -> None:
    config = core.caddy_config(core.EdgeView("a", "127.0.0.1", "127.0.0.1"), [])
    assert config["apps"]["http"] == {"servers": {}}


names = st.text("abcdefgh", min_size=1, max_size=4)
endpoint_sets = st.dictionaries(
    names, st.tuples(st.integers(1024, 65535), st.lists(st.integers(1, 65535), max_size=4, unique=True)),
    max_size=6)


@given(endpoint_sets, st.randoms())
def test_the_config_does_not_depend_on_the_order_endpoints_come_in(eps, rnd) -> None:
    edge = core.EdgeView("a", "127.0.0.1", "127.0.0.1")
    listed = [served(n, port, [f"127.0.0.1:{p}" for p in ports]) for n, (port, ports) in eps.items()]
    shuffled = list(listed)
    rnd.shuffle(shuffled)
    one, two = core.caddy_config(edge, listed), core.caddy_config(edge, shuffled)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    servers = one["apps"]["http"]["servers"]
    assert set(servers) == {f"endpoint-{n}" for n in eps}
    for n, (_, ports) in eps.items():
        dials = [u["dial"] for u in servers[f"endpoint-{n}"]["routes"][0]["handle"][0]["upstreams"]]
        assert dials == [f"127.0.0.1:{p}" for p in ports]


replica = st.builds(
    container, st.integers(0, 7), st.sampled_from(["a", "b"]),
    st.sampled_from(["running", "running", "exited", "created", "restarting"]),
    st.sampled_from(["none", "healthy", "starting", "unhealthy"]), st.floats(0, 10))


@given(st.lists(replica, max_size=8, unique_by=lambda c: c.container_id),
       st.sets(st.sampled_from([f"c{i}" for i in range(8)])), st.floats(0, 5))
def test_every_upstream_is_ready_and_staying(observed, removing, min_ready_s) -> None:
    d = desired(min_ready_s)
    got = core.upstreams(d, 8080, observed, HOSTS, REACH, removing, now=NOW)
    by_name = {c.name: c for c in observed}
    assert len({u.address for u in got}) == len(got)
    for u in got:
        c = by_name[u.replica]
        assert c.container_id not in removing
        assert c.state == "running" and c.health in ("none", "healthy")
        assert NOW - c.started_at >= timedelta(seconds=min_ready_s)
    # ...and every ready, staying replica is one.
    ready = {c.name for c in observed if c.container_id not in removing and c.state == "running"
             and c.health in ("none", "healthy") and NOW - c.started_at >= timedelta(seconds=min_ready_s)}
    assert {u.replica for u in got} == ready


@given(st.lists(st.builds(core.Upstream, st.sampled_from("ab"), names, st.integers(1, 9).map(lambda p: f"h:{p}"),
                          st.integers(1, 3)), max_size=6, unique_by=lambda u: u.address),
       st.lists(st.builds(core.Upstream, st.sampled_from("ab"), names, st.integers(1, 9).map(lambda p: f"h:{p}"),
                          st.integers(1, 3)), max_size=6, unique_by=lambda u: u.address))
def test_a_change_applied_gives_the_target(before, after) -> None:
    ch = core.change(before, after)
    result = ({u.address for u in before} - {u.address for u in ch.left}) | {u.address for u in ch.joined}
    assert result == {u.address for u in after}
    assert core.change(after, after).empty


# ---- the spec, the template and the hash that names containers ---------------------------

def test_the_endpoint_is_stored_and_read_back_leniently() -> None:
    from app.reconcile import template as tpl
    from app.schemas.deployments import DeploymentSpec
    from app.services import specs

    t = specs.template(DeploymentSpec(image="web:1", endpoint={"port": 8080, "hostnames": ["a.test"]}))
    assert t.endpoint == tpl.Endpoint(8080, ("a.test",), None, 30.0)
    assert tpl.from_dict(t.to_dict()) == t
    stored = t.to_dict()
    stored["endpoint"] = {"port": 8080, "unknown": 1}  # sparse, and a key a later Moorage added
    assert tpl.from_dict(stored).endpoint == tpl.Endpoint(8080)
    without = specs.template(DeploymentSpec(image="web:1"))
    assert "endpoint" not in without.to_dict()  # stored templates without one read back equal
    assert tpl.from_dict(without.to_dict()).endpoint is None


def test_an_endpoint_changes_the_container_hash_only_when_it_must_publish() -> None:
    from app.schemas.deployments import DeploymentSpec
    from app.services import specs

    def thash(**extra) -> str:
        return specs.template_hash(b"k", specs.public_spec(DeploymentSpec(image="web:1", **extra)), {})

    plain = thash()
    assert "endpoint" not in specs.public_spec(DeploymentSpec(image="web:1"))  # hashes as before
    published = [{"container_port": 8080}]
    assert thash(ports=published) == thash(ports=published, endpoint={"port": 8080})
    assert thash(ports=published, endpoint={"port": 8080}) == thash(
        ports=published, endpoint={"port": 8080, "hostnames": ["a.test"], "listen_port": 20001,
                                   "drain_timeout_s": 5})
    # Not published by `ports`: the containers must publish it, so they change once.
    assert thash(endpoint={"port": 8080}) != plain
    assert thash(endpoint={"port": 8080}) == thash(endpoint={"port": 8080, "hostnames": ["b.test"]})


def test_the_edges_admin_port_is_that_of_their_admin_address() -> None:
    from app.services.endpoints import admin_port

    assert admin_port("127.0.0.1:2019") == 2019
    assert admin_port("localhost:2999") == 2999
    assert admin_port("[::1]:2019") == 2019
    assert admin_port("unix//run/caddy/admin.sock") is None
    assert admin_port("localhost") is None
