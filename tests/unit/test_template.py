"""The typed, versioned template a revision stores for the workers (app.reconcile.template):
it round-trips, a v1 dict as 0015 wrote it loads, keys it does not know are ignored, and
the migration's frozen conversion makes what today's code makes from the same spec."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reconcile import template as tpl
from app.reconcile.host_access import Bind
from app.schemas.deployments import DeploymentSpec
from app.services import specs

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
ports = st.integers(1, 65535)
seconds = st.floats(0, 3600, allow_nan=False)
argv = st.none() | st.lists(text, max_size=3).map(tuple)

templates = st.builds(
    tpl.Template,
    container=st.builds(
        tpl.Container,
        image=st.sampled_from(["nginx:1.27", "ghcr.io/acme/web@sha256:" + "a" * 64, "web"]),
        command=argv,
        entrypoint=argv,
        env=st.dictionaries(keys, text, max_size=4),
        ports=st.lists(st.builds(tpl.PortMapping, ports, st.none() | ports,
                                 st.sampled_from(["tcp", "udp"]),
                                 st.sampled_from(["0.0.0.0", "127.0.0.1", "::"])),
                       max_size=3).map(tuple),
        volumes=st.lists(st.builds(tpl.Mount, st.sampled_from(["data", "/srv/web", "/../etc"]),
                                   st.sampled_from(["/d", "/var/x"]), st.booleans()),
                         max_size=3).map(tuple),
        labels=st.dictionaries(keys, text, max_size=3),
        resources=st.builds(tpl.Limits, st.none() | st.floats(0.01, 64, allow_nan=False),
                            st.none() | st.integers(6, 65536)),
        networks=st.lists(st.sampled_from(["shop", "db", "ops"]), max_size=3).map(tuple),
    ),
    health_check=st.none() | st.builds(
        tpl.HealthCheck,
        probe=st.one_of(st.builds(tpl.HttpProbe, ports, st.sampled_from(["/", "/healthz"])),
                        st.builds(tpl.TcpProbe, ports),
                        st.builds(tpl.ExecProbe, st.lists(text, min_size=1, max_size=3))),
        interval_s=seconds, timeout_s=seconds, retries=st.integers(1, 100),
        start_period_s=seconds,
    ),
    restart_policy=st.sampled_from(["always", "on-failure", "never"]),
    update_strategy=st.builds(tpl.UpdateStrategy, st.integers(0, 10), st.integers(0, 10),
                              seconds, st.floats(1, 86_400, allow_nan=False), st.booleans()),
    placement=st.builds(tpl.PlacementRules,
                        st.lists(st.sampled_from(["zone==a", "disk!=hdd"]), max_size=2),
                        st.none() | st.integers(1, 10)),
    registry_username=st.none() | keys,
)


@given(templates)
def test_a_template_round_trips_through_its_stored_form(t: tpl.Template) -> None:
    stored = json.loads(json.dumps(t.to_dict()))  # as the JSON column gives it back
    assert stored["schema_version"] == tpl.SCHEMA_VERSION
    assert tpl.from_dict(stored) == t
    assert hash(tpl.from_dict(stored)) == hash(t)  # frozen all the way down


# A v1 template exactly as migration 0015 and the apply of 0015 wrote it. It must load
# for as long as revisions written then exist: never edit this literal, add a new one.
V1 = {
    "schema_version": 1,
    "container": {
        "image": "nginx:1.27",
        "command": ["nginx", "-g", "daemon off;"],
        "entrypoint": None,
        "env": {"B": "2", "A": "1"},
        "ports": [{"container_port": 80, "host_port": 8080, "protocol": "tcp",
                   "host_ip": "127.0.0.1"},
                  {"container_port": 53, "host_port": None, "protocol": "udp",
                   "host_ip": "0.0.0.0"}],
        "volumes": [{"source": "web-data", "target": "/data", "read_only": False},
                    {"source": "/srv/web", "target": "/srv", "read_only": True}],
        "labels": {"team": "web"},
        "resources": {"cpus": 0.5, "memory_mb": 128},
    },
    "health_check": {"http": {"port": 80, "path": "/healthz"}, "interval_s": 1.0,
                     "timeout_s": 0.5, "retries": 2, "start_period_s": 0.0},
    "restart_policy": "on-failure",
    "update_strategy": {"max_surge": 2, "max_unavailable": 1, "min_ready_s": 1.5,
                        "progress_deadline_s": 90.0, "auto_rollback": False},
    "placement": {"constraints": ["zone==a"], "max_per_host": 1},
    "registry_username": "ci",
}

V1_TEMPLATE = tpl.Template(
    container=tpl.Container(
        image="nginx:1.27",
        command=("nginx", "-g", "daemon off;"),
        env={"A": "1", "B": "2"},
        ports=(tpl.PortMapping(80, 8080, "tcp", "127.0.0.1"), tpl.PortMapping(53, None, "udp")),
        volumes=(tpl.Mount("web-data", "/data"), tpl.Mount("/srv/web", "/srv", True)),
        labels={"team": "web"},
        resources=tpl.Limits(0.5, 128),
    ),
    health_check=tpl.HealthCheck(tpl.HttpProbe(80, "/healthz"), 1.0, 0.5, 2, 0.0),
    restart_policy="on-failure",
    update_strategy=tpl.UpdateStrategy(2, 1, 1.5, 90.0, False),
    placement=tpl.PlacementRules(("zone==a",), 1),
    registry_username="ci",
)


def test_a_v1_template_written_as_0015_wrote_it_still_loads() -> None:
    assert tpl.from_dict(V1) == V1_TEMPLATE
    assert V1_TEMPLATE.to_dict() == {**V1, "container": {**V1["container"],
                                                         "env": {"A": "1", "B": "2"}}}


def test_what_the_planner_needs_is_derived_from_the_template() -> None:
    d = V1_TEMPLATE.desired("web", 7, 5, "h" * 64, settle_s=2.0)
    assert (d.deployment, d.revision, d.replicas, d.template_hash) == ("web", 7, 5, "h" * 64)
    assert d.restart_policy == "on-failure"
    assert (d.strategy.max_surge, d.strategy.max_unavailable) == (2, 1)
    assert d.strategy.min_ready_s == 2.0  # the settle floor over min_ready_s 1.5
    p = d.placement
    assert (p.constraints, p.max_per_host) == (("zone==a",), 1)
    assert (p.cpus, p.memory_bytes, p.host_ports) == (0.5, 128 * 2**20, ((8080, "tcp"),))
    assert p.binds == (Bind(1, "/srv/web", True),)  # the named volume is no host access
    # The count is the caller's (the deployment's): the template has none.
    assert V1_TEMPLATE.desired("web", 7, 0, "h").replicas == 0


def test_unknown_keys_are_ignored_at_every_level() -> None:
    """A field renamed or dropped later (in the API or here) cannot make a stored
    template unloadable, and a template a newer Moorage of the same schema version
    wrote still loads."""
    noisy = json.loads(json.dumps(V1))
    noisy["endpoint"] = {"network": "front"}
    noisy["replicas"] = 9  # as if someone stored it: not the template's, ignored
    noisy["container"]["renamed_field"] = True
    noisy["container"]["ports"][0]["host_port_range"] = [1, 2]
    noisy["health_check"]["grpc"] = {"port": 1}
    noisy["update_strategy"]["surge_percent"] = 25
    assert tpl.from_dict(noisy) == V1_TEMPLATE


def test_missing_keys_take_the_api_defaults() -> None:
    t = tpl.from_dict({"schema_version": 1, "container": {"image": "nginx:1.27"}})
    assert t == tpl.Template(tpl.Container("nginx:1.27"))
    assert t == specs.template(DeploymentSpec(image="nginx:1.27"))


@pytest.mark.parametrize("stored", [
    {"container": {"image": "nginx"}},  # no schema_version
    {"schema_version": 0, "container": {"image": "nginx"}},
    {"schema_version": "1", "container": {"image": "nginx"}},
    {"schema_version": True, "container": {"image": "nginx"}},
    {"schema_version": 1},  # no image: nothing to run
    {"schema_version": 1, "container": {"image": ""}},
    {"schema_version": 1, "container": {"image": "nginx", "ports": [{"protocol": "tcp"}]}},
    [],
], ids=["none", "zero", "string", "bool", "no-container", "empty-image", "port", "list"])
def test_an_unreadable_template_is_a_template_error(stored) -> None:
    with pytest.raises(tpl.TemplateError):
        tpl.from_dict(stored)


def test_a_newer_schema_version_is_refused_not_misread() -> None:
    with pytest.raises(tpl.TemplateError, match="newer"):
        tpl.from_dict({**V1, "schema_version": tpl.SCHEMA_VERSION + 1})


def test_an_older_version_is_upgraded_step_by_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """How a v2 will come: SCHEMA_VERSION 2 and a step from 1 to 2. A stored v1 then
    loads through the step; a v2 is read as it is."""
    def v1_to_v2(data: dict) -> dict:
        return {**data, "schema_version": 2, "restart_policy": "never"}

    monkeypatch.setattr(tpl, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(tpl._UPGRADES, 1, v1_to_v2)
    assert tpl.from_dict(V1).restart_policy == "never"
    assert tpl.from_dict({**V1, "schema_version": 2}).restart_policy == "on-failure"


def _migration_0015():
    path = Path(__file__).parents[2] / "migrations" / "versions" / "0015_revision_templates.py"
    spec = importlib.util.spec_from_file_location("migration_0015", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SPECS = [
    {"image": "nginx:1.27"},
    {"image": "nginx:1.27", "replicas": 3, "env": {"B": "2", "A": "1"}, "labels": {"t": "w"},
     "command": ["sh", "-c", "exit 0"], "entrypoint": [],
     "ports": [{"container_port": 80, "host_port": 8080}, {"container_port": 53,
                                                          "protocol": "udp"}],
     "resources": {"cpus": 2, "memory_mb": 64},
     "volumes": [{"source": "data", "target": "/d"}, {"source": "/srv//web/", "target": "/s",
                                                       "read_only": True}]},
    {"image": "web:1", "health_check": {"tcp": {"port": 80}}, "restart_policy": "never",
     "placement": {"constraints": ["zone==a"], "max_per_host": 2},
     "update_strategy": {"max_surge": 0, "max_unavailable": 1, "auto_rollback": False}},
    {"image": "web:1", "health_check": {"exec": ["true"], "retries": 5}},
    {"image": "ghcr.io/acme/web:1", "health_check": {"http": {"port": 80}},
     "registry_auth": {"username": "ci", "password": "p4ssword"}},
]


@pytest.mark.parametrize("body", SPECS, ids=range(len(SPECS)))
def test_the_migration_converts_a_spec_as_apply_now_builds_it(body: dict) -> None:
    """0015's frozen conversion of a stored spec (with its replica count, as revisions
    held it up to 0013) is the template today's apply makes from the same request."""
    spec = DeploymentSpec.model_validate(body)
    stored_until_0013 = {**specs.public_spec(spec), "replicas": spec.replicas}
    converted = _migration_0015().template_v1(json.loads(json.dumps(stored_until_0013)))
    assert converted == specs.template(spec).to_dict()
    assert tpl.from_dict(converted) == specs.template(spec)


def test_the_migration_is_lenient_with_a_sparse_old_spec() -> None:
    """A spec from a Moorage older than some fields (no volumes, strategy without a
    deadline, a health check without timings): the missing ones take the defaults."""
    old = {"image": "nginx:1.25", "replicas": 2, "env": {"A": "1"},
           "update_strategy": {"max_surge": 1, "max_unavailable": 0},
           "health_check": {"http": {"port": 80, "path": "/"}}}
    converted = tpl.from_dict(_migration_0015().template_v1(old))
    assert converted == specs.template(DeploymentSpec.model_validate(old))
    assert converted.update_strategy.progress_deadline_s == 600.0
    assert converted.health_check == tpl.HealthCheck(tpl.HttpProbe(80, "/"))
