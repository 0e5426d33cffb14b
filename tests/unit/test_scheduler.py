"""Placement: constraints, capacity, ports, spread, and why a replica could not be placed."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.reconcile.host_access import Bind, parse_entries
from app.reconcile.scheduler import Constraint, Occupancy, bind_refusals, choose_host
from app.reconcile.types import HostLoad, HostState, HostView, Placement

from .factories import host

GiB = 1024**3
PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def place(
    hosts: list[HostView], placement: Placement, k: int, loads: dict[str, HostLoad] | None = None
) -> tuple[list[str], Occupancy, str]:
    """Place up to ``k`` replicas one by one, as the planner does; stop at the first refusal."""
    occ = Occupancy(other=loads or {})
    chosen: list[str] = []
    for _ in range(k):
        name, why = choose_host(hosts, placement, occ)
        if name is None:
            return chosen, occ, why
        assert why == ""
        occ.add(name, placement)
        chosen.append(name)
    return chosen, occ, ""


# ---- Constraint ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "value", "equal"),
    [
        pytest.param("region==eu", "region", "eu", True, id="equal"),
        pytest.param("region!=eu", "region", "eu", False, id="not-equal"),
        pytest.param("  region ==  eu ", "region", "eu", True, id="spaces-stripped"),
        pytest.param("disk!= ssd", "disk", "ssd", False, id="not-equal-spaces"),
        pytest.param("a==b==c", "a", "b==c", True, id="split-on-first-operator"),
        pytest.param("node.role==worker", "node.role", "worker", True, id="dotted-key"),
    ],
)
def test_constraint_parse(text, key, value, equal):
    c = Constraint.parse(text)
    assert (c.key, c.value, c.equal) == (key, value, equal)
    assert Constraint.parse(str(c)) == c


@pytest.mark.parametrize(
    "text",
    ["", "region", "region=eu", "region = eu", "==eu", "region==", "!=eu", "region!=", " == ", "region<>eu"],
    ids=lambda t: repr(t),
)
def test_constraint_parse_rejects_malformed(text):
    with pytest.raises(ValueError, match="is not of the form key==value or key!=value"):
        Constraint.parse(text)


@pytest.mark.parametrize(
    ("text", "labels", "matches"),
    [
        pytest.param("region==eu", {"region": "eu"}, True, id="eq-match"),
        pytest.param("region==eu", {"region": "us"}, False, id="eq-other-value"),
        pytest.param("region==eu", {}, False, id="eq-missing-label"),
        pytest.param("region!=eu", {"region": "us"}, True, id="ne-other-value"),
        pytest.param("region!=eu", {}, True, id="ne-missing-label"),
        pytest.param("region!=eu", {"region": "eu"}, False, id="ne-same-value"),
    ],
)
def test_constraint_matches(text, labels, matches):
    assert Constraint.parse(text).matches(labels) is matches


def test_malformed_constraint_in_a_placement_raises():
    with pytest.raises(ValueError):
        choose_host([host("h1")], Placement(constraints=("region=eu",)), Occupancy())


# ---- refusals: the exact wording the status shows --------------------------------------


@pytest.mark.parametrize(
    ("hosts", "placement", "loads", "reason"),
    [
        pytest.param([], Placement(), {}, "no hosts are registered", id="no-hosts"),
        pytest.param(
            [host("h1", labels={"region": "us"}), host("h2"), host("h3", labels={"region": "eu"}, memory_bytes=GiB)],
            Placement(constraints=("region==eu",), memory_bytes=2 * GiB),
            {},
            "0/3 hosts match: 1 have no memory left, 2 lack label region==eu",
            id="labels-and-memory",
        ),
        pytest.param(
            [host("h1", labels={"region": "eu"}), host("h2", labels={"region": "eu"})],
            Placement(constraints=("region!=eu",)),
            {},
            "0/2 hosts match: 2 have label region==eu",
            id="excluded-label",
        ),
        pytest.param(
            [
                host("h1", HostState.UNREACHABLE),
                host("h2", HostState.LOST),
                host("h3", HostState.PENDING),
                host("h4", schedulable=False),
            ],
            Placement(),
            {},
            "0/4 hosts match: 1 is lost, 1 is not schedulable, 1 is pending, 1 is unreachable",
            id="host-states",
        ),
        pytest.param(
            [host("h1", cpus=2.0), host("h2", cpus=4.0)],
            Placement(cpus=1.5),
            {"h1": HostLoad(cpus=1.0), "h2": HostLoad(cpus=3.0)},
            "0/2 hosts match: 2 have no CPU left",
            id="cpu",
        ),
        pytest.param(
            [host("h1")],
            Placement(host_ports=((80, "tcp"),)),
            {"h1": HostLoad(host_ports=frozenset({(80, "tcp")}))},
            "0/1 hosts match: 1 have the host port in use",
            id="port-taken-by-another-deployment",
        ),
    ],
)
def test_refusal_reason_wording(hosts, placement, loads, reason):
    assert choose_host(hosts, placement, Occupancy(other=loads)) == (None, reason)


def test_refusal_after_filling_up_names_max_per_host():
    chosen, _, why = place([host("h1"), host("h2")], Placement(max_per_host=2), k=10)
    assert sorted(chosen) == ["h1", "h1", "h2", "h2"]
    assert why == "0/2 hosts match: 2 already run max_per_host=2"


def test_same_port_other_protocol_does_not_conflict():
    loads = {"h1": HostLoad(host_ports=frozenset({(53, "tcp")}))}
    assert choose_host([host("h1")], Placement(host_ports=((53, "udp"),)), Occupancy(other=loads)) == ("h1", "")


def test_capacity_sums_fractional_cpus_without_float_drift():
    chosen, _, why = place([host("h1", cpus=1.0)], Placement(cpus=0.1), k=20)
    assert len(chosen) == 10
    assert why == "0/1 hosts match: 1 have no CPU left"


def test_zero_reservation_ignores_capacity():
    # A placement reserving nothing fits even on a host another deployment filled.
    loads = {"h1": HostLoad(cpus=8.0, memory_bytes=8 * GiB)}
    hs = [host("h1", cpus=8.0, memory_bytes=8 * GiB)]
    assert choose_host(hs, Placement(), Occupancy(other=loads)) == ("h1", "")


@pytest.mark.parametrize(
    ("own", "other", "expected"),
    [
        pytest.param({}, {}, "a", id="tie-goes-by-name"),
        pytest.param({}, {"a": 3, "b": 1}, "b", id="least-loaded-by-other-deployments"),
        pytest.param({"b": 1}, {"a": 9}, "a", id="own-spread-before-total-load"),
        pytest.param({"a": 2, "b": 1}, {"b": 5}, "b", id="fewest-own-wins"),
    ],
)
def test_ranking(own, other, expected):
    occ = Occupancy(own=Counter(own), other={h: HostLoad(containers=n) for h, n in other.items()})
    assert choose_host([host("b"), host("a")], Placement(), occ) == (expected, "")


# ---- properties ------------------------------------------------------------------------

LABELS = st.dictionaries(st.sampled_from(["region", "disk"]), st.sampled_from(["eu", "us", "ssd", "hdd"]), max_size=2)
CONSTRAINTS = st.lists(st.sampled_from(["region==eu", "region!=us", "disk==ssd", "disk!=hdd"]), max_size=2, unique=True)
PORTS = st.sampled_from([(), ((80, "tcp"),), ((80, "tcp"), (443, "tcp")), ((53, "udp"),)])


@st.composite
def fleets(draw, *, capacity: bool = True) -> list[HostView]:
    n = draw(st.integers(0, 5))
    out = []
    for i in range(n):
        out.append(
            host(
                f"h{i}",
                draw(st.sampled_from([HostState.READY] * 4 + list(HostState))),
                schedulable=draw(st.booleans() | st.just(True)),
                labels=draw(LABELS),
                cpus=draw(st.none() | st.sampled_from([0.5, 1.0, 2.0, 4.0])) if capacity else None,
                memory_bytes=draw(st.none() | st.integers(0, 8).map(lambda g: g * GiB)) if capacity else None,
            )
        )
    return out


placements = st.builds(
    Placement,
    constraints=CONSTRAINTS.map(tuple),
    max_per_host=st.none() | st.integers(1, 3),
    host_ports=PORTS,
    cpus=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
    memory_bytes=st.sampled_from([0, GiB // 2, GiB, 3 * GiB]),
)


@st.composite
def loads_for(draw, hosts: list[HostView]) -> dict[str, HostLoad]:
    out = {}
    for h in hosts:
        if draw(st.booleans()):
            out[h.name] = HostLoad(
                containers=draw(st.integers(0, 6)),
                cpus=draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])),
                memory_bytes=draw(st.sampled_from([0, GiB, 4 * GiB])),
                host_ports=draw(st.sampled_from([frozenset(), frozenset({(80, "tcp")})])),
            )
    return out


def fits(h: HostView, p: Placement, own: int, load: HostLoad) -> bool:
    """An independent statement of the rules: may one more replica go to ``h``?"""
    labels = dict(h.labels)
    for c in map(Constraint.parse, p.constraints):
        if (labels.get(c.key) == c.value) != c.equal:
            return False
    ok = h.state is HostState.READY and h.schedulable
    ok &= p.max_per_host is None or own < p.max_per_host
    ports = set(load.host_ports) | (set(p.host_ports) if own else set())
    ok &= not ports & set(p.host_ports)
    if p.cpus and h.cpus is not None:
        ok &= load.cpus + (own + 1) * p.cpus <= h.cpus + 1e-9
    if p.memory_bytes and h.memory_bytes is not None:
        ok &= load.memory_bytes + (own + 1) * p.memory_bytes <= h.memory_bytes
    return ok


@PROPS
@given(st.data(), fleets(), placements)
def test_placement_obeys_every_rule_and_refuses_only_when_nothing_fits(data, hs, p):
    loads = data.draw(loads_for(hs))
    chosen, occ, why = place(hs, p, k=30, loads=loads)
    own: Counter[str] = Counter()
    view = {h.name: h for h in hs}
    for name in chosen:
        assert fits(view[name], p, own[name], loads.get(name, HostLoad()))
        own[name] += 1

    # Every host is within its limits at the end.
    for h in hs:
        load = loads.get(h.name, HostLoad())
        n = own[h.name]
        if n and p.max_per_host is not None:
            assert n <= p.max_per_host
        if n and p.cpus and h.cpus is not None:
            assert load.cpus + n * p.cpus <= h.cpus + 1e-9
        if n and p.memory_bytes and h.memory_bytes is not None:
            assert load.memory_bytes + n * p.memory_bytes <= h.memory_bytes
        if n and p.host_ports:
            assert n == 1 and not set(p.host_ports) & load.host_ports, "a host port doubled"
    assert occ.own == own

    if len(chosen) < 30:  # refused: rightly, and said why for every host
        assert not any(fits(h, p, own[h.name], loads.get(h.name, HostLoad())) for h in hs)
        if not hs:
            assert why == "no hosts are registered"
        else:
            head, _, parts = why.partition(": ")
            assert head == f"0/{len(hs)} hosts match"
            assert sum(int(part.split(" ", 1)[0]) for part in parts.split(", ")) == len(hs)


@PROPS
@given(st.data(), fleets(capacity=False), CONSTRAINTS, st.integers(1, 25))
def test_spread_over_eligible_hosts_is_even_within_one(data, hs, constraints, k):
    loads = {h.name: HostLoad(containers=data.draw(st.integers(0, 10), label=f"load {h.name}")) for h in hs}
    p = Placement(constraints=tuple(constraints))
    eligible = [h.name for h in hs if fits(h, p, 0, HostLoad())]

    chosen, _, why = place(hs, p, k, loads)

    counts = Counter(chosen)
    assert set(counts) <= set(eligible)
    if eligible:
        assert len(chosen) == k and why == ""
        per_host = [counts[name] for name in eligible]
        assert max(per_host) - min(per_host) <= 1
    else:
        assert chosen == [] and why


@settings(PROPS, max_examples=50)
@given(st.data(), fleets(), placements, st.randoms())
def test_placement_is_deterministic_and_ignores_host_order(data, hs, p, rnd):
    loads = data.draw(loads_for(hs))
    first = place(hs, p, 12, loads)
    assert place(list(hs), p, 12, dict(loads)) == first

    shuffled = list(hs)
    rnd.shuffle(shuffled)
    assert place(shuffled, p, 12, loads) == first


# ---- host paths: only hosts whose allow list has them ------------------------------------

SRV = Bind(0, "/srv/web")


def test_a_bind_lands_only_on_hosts_that_allow_it():
    hosts = [host("h1"), host("h2", bind_allow=("/srv/web",)), host("h3", bind_allow=("/srv:ro",))]
    chosen, _, why = place(hosts, Placement(binds=(SRV,)), k=3)
    assert chosen == ["h2", "h2", "h2"] and why == ""
    # A read-only bind may use the read-only entry too.
    chosen, _, _ = place(hosts, Placement(binds=(Bind(0, "/srv/web", True),)), k=2)
    assert sorted(chosen) == ["h2", "h3"]


def test_no_host_allowing_a_bind_says_so():
    hosts = [host("h1"), host("h2", bind_allow=("/srv/api",)), host("h3", schedulable=False)]
    assert choose_host(hosts, Placement(binds=(SRV,)), Occupancy()) == (
        None, "0/3 hosts match: 2 do not allow bind mount /srv/web, 1 is not schedulable")
    broken = Bind(0, "/../etc", problem="'..' is not allowed in a host path ('/../etc')")
    assert choose_host([host("h1", bind_allow=("/:ro",))], Placement(binds=(broken,)),
                       Occupancy()) == (None, "0/1 hosts match: 1 cannot bind /../etc ('..' "
                                              "is not allowed in a host path ('/../etc'))")


def test_a_hosts_own_engine_socket_is_not_bound_by_a_broad_entry():
    sock = Bind(0, "/srv/engine/docker.sock", True)
    hosts = [host("h1", bind_allow=("/srv:ro",), protected=("/srv/engine/docker.sock",)),
             host("h2", bind_allow=("/srv:ro",))]
    assert place(hosts, Placement(binds=(sock,)), k=2)[0] == ["h2", "h2"]


def test_bind_refusals_at_apply_name_each_bind_allowed_nowhere():
    g = parse_entries(["/srv/shared"])
    hosts = [host("h1", bind_allow=("/srv/shared", "/srv/a")),
             host("h2", bind_allow=("/srv/shared", "/srv/b"))]
    shared, a, b = Bind(0, "/srv/shared"), Bind(1, "/srv/a"), Bind(2, "/srv/b")
    assert bind_refusals((shared,), g, hosts) == []  # the global list: anywhere
    assert bind_refusals((shared, a), g, hosts) == []  # h1 takes it
    assert bind_refusals((a, b), g, hosts) == [
        (None, "no host allows all of these host paths together: /srv/a, /srv/b")]
    (index, why), = bind_refusals((shared, Bind(1, "/proc", True)), (*g, *parse_entries(["/:ro"])),
                                  hosts)
    assert index == 1 and "/proc is /proc, which gives root on the host" in why
    assert bind_refusals((a,), (), []) == [
        (1, "/srv/a is a host path, and none is allowed: an admin allows them "
            "(MOORAGE_ALLOWED_BIND_PREFIXES, or a host's allowed_bind_prefixes)")]
    # With no global entries, a host's own reason says more.
    (index, why), = bind_refusals((Bind(3, "/srv/c"),), (), [host("h1", bind_allow=("/srv/a",)),
                                                              host("h2")])
    assert index == 3 and why.startswith("on host h1: /srv/c is not an allowed host path")
