"""The client commands' pure parts: the config file, spec files, and what they print."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest

from app.cli_client import config, files, render, watch
from app.logs import redactor

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


# -- config file --------------------------------------------------------------------

def test_config_path_follows_moorage_config_then_xdg() -> None:
    assert str(config.config_path({"MOORAGE_CONFIG": "/x/c.yaml"})) == "/x/c.yaml"
    assert str(config.config_path({"XDG_CONFIG_HOME": "/cfg"})) == "/cfg/moorage/config.yaml"


def test_config_round_trips_and_is_private(tmp_path) -> None:
    path = tmp_path / "sub" / "config.yaml"
    cfg = config.Config(current="prod", contexts={
        "prod": config.Context("https://moorage.example:8443", "mrg_prod"),
        "local": config.Context("http://127.0.0.1:8000", None)})
    cfg.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert config.Config.load(path) == cfg
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temporary file left


def test_a_missing_config_is_empty_and_a_broken_one_says_so(tmp_path) -> None:
    assert config.Config.load(tmp_path / "none.yaml") == config.Config()
    broken = tmp_path / "broken.yaml"
    broken.write_text("contexts: {a: {token: t}}\n")
    with pytest.raises(ValueError, match="has no url"):
        config.Config.load(broken)


CFG = config.Config(current="a", contexts={"a": config.Context("http://a:1", "tok-a"),
                                           "b": config.Context("http://b:2/", "tok-b")})


@pytest.mark.parametrize(("context", "env", "expected"), [
    (None, {}, config.Target("http://a:1", "tok-a", "a")),
    ("b", {}, config.Target("http://b:2", "tok-b", "b")),
    (None, {"MOORAGE_CONTEXT": "b"}, config.Target("http://b:2", "tok-b", "b")),
    (None, {"MOORAGE_TOKEN": "env"}, config.Target("http://a:1", "env", "a")),
    # Another server by MOORAGE_URL never gets the context's token.
    (None, {"MOORAGE_URL": "http://evil:9"}, config.Target("http://evil:9", None, "a")),
    (None, {"MOORAGE_URL": "http://a:1/"}, config.Target("http://a:1", "tok-a", "a")),
])
def test_resolve_context_then_environment(context, env, expected) -> None:
    assert config.resolve(CFG, context, env) == expected


def test_resolve_without_config_is_the_local_default_and_an_unknown_context_fails() -> None:
    assert config.resolve(config.Config(), None, {}) == config.Target(config.DEFAULT_URL, None, None)
    with pytest.raises(KeyError):
        config.resolve(CFG, "nope", {})


def test_context_name_for_url() -> None:
    assert config.context_name_for("http://127.0.0.1:8000") == "127.0.0.1-8000"
    assert config.context_name_for("https://moorage.example") == "moorage.example"


# -- spec files ----------------------------------------------------------------------

def test_yaml_documents_are_deployments() -> None:
    text = "name: web\nimage: nginx:1.27\nreplicas: 2\n---\nname: api\nimage: api:1\n"
    assert files.parse_deployments(text, "d.yaml") == [
        ("web", {"image": "nginx:1.27", "replicas": 2}), ("api", {"image": "api:1"})]
    assert files.parse_deployments('{"name": "web", "image": "x"}', "d.json") == [("web", {"image": "x"})]


def test_yaml_values_are_read_as_in_a_compose_file() -> None:
    """`yes`, `on` and `22:22` are strings, as in a stack (YAML 1.1 made them true and 1342)."""
    text = ("name: web\nimage: x\nenv: {DEBUG: yes, MODE: on, AT: 22:22, DAY: 2026-12-04}\n"
            "labels: {tier: <<}\nreplicas: 0o3\n")
    ((_, spec),) = files.parse_deployments(text, "d.yaml")
    assert spec["env"] == {"DEBUG": "yes", "MODE": "on", "AT": "22:22", "DAY": "2026-12-04"}
    assert spec["labels"] == {"tier": "<<"} and spec["replicas"] == 3


@pytest.mark.parametrize(("text", "source", "message"), [
    ("name: web\nimage: !!binary aGk=\n", "d.yaml", "the tag `!!binary` is not read"),
    ("name: web\nimage: x\nenv: !!set {A}\n", "d.yaml", "the tag `!!set` is not read"),
    ("name: web\nimage: !!python/name:os.system\n", "d.yaml", "is not read"),
    ("image: x\n", "d.yaml", "needs a `name`"),
    ("- a\n", "d.yaml", "a mapping"),
    ("services:\n  web: {image: x}\n", "compose.yaml", "apply it as a stack with `--stack NAME`"),
    ("{", "d.json", "not valid JSON"),
    ("a: [", "d.yaml", "not valid YAML"),
    ("", "d.yaml", "no deployment"),
])
def test_bad_files_say_why(text, source, message) -> None:
    with pytest.raises(files.FileError, match=message):
        files.parse_deployments(text, source)


# -- problems, times -----------------------------------------------------------------

def test_problem_shows_title_detail_and_each_field_error() -> None:
    body = {"title": "Unprocessable Content", "status": 422, "detail": "invalid fields: body.replicaz",
            "errors": [{"loc": ["body", "replicaz"], "msg": "Extra inputs are not permitted"},
                       {"loc": ["body", "volumes", 0, "source"], "msg": "not allowed"}]}
    assert render.problem_text(422, body) == (
        "Unprocessable Content (HTTP 422): invalid fields: body.replicaz\n"
        "  body.replicaz: Extra inputs are not permitted\n"
        "  body.volumes.0.source: not allowed")
    assert render.problem_text(502, "<html>Bad gateway</html>") == "HTTP 502: <html>Bad gateway</html>"


def test_age_and_since() -> None:
    assert render.age("2026-12-01T11:59:18Z", NOW) == "42s"
    assert render.age("2026-12-01T09:00:00Z", NOW) == "3h"
    assert render.age("2026-11-28T12:00:00Z", NOW) == "3d"
    assert render.age(None, NOW) == "-"
    assert render.parse_since("10m", NOW) == NOW - timedelta(minutes=10)
    assert render.parse_since("1.5h", NOW) == NOW - timedelta(minutes=90)
    assert render.parse_since("2026-12-01T10:00:00", NOW) == datetime(2026, 12, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="neither a duration"):
        render.parse_since("yesterday", NOW)


# -- tables --------------------------------------------------------------------------

DEPLOYMENT = {
    "name": "web", "revision": 3, "created_at": "2026-12-01T11:00:00Z",
    "spec": {"image": "nginx:1.27", "replicas": 3},
    "status": {"phase": "progressing", "ready_replicas": 2, "updated_replicas": 1},
    "current_rollout": {"id": "6bd74b12-0000", "kind": "update", "state": "in_progress"},
}


def test_deployment_row() -> None:
    assert render.deployment_rows([DEPLOYMENT], NOW) == [
        ["web", "progressing", "2/3", "1", "nginx:1.27", "3", "update in_progress", "1h"]]


def test_replica_addresses_per_kind_of_host() -> None:
    replica = {"ports": [{"container_port": 80, "host_ip": "0.0.0.0", "host_port": 32768},
                         {"container_port": 81, "host_ip": "127.0.0.1", "host_port": 32769},
                         {"container_port": 82, "host_ip": "0.0.0.0", "host_port": None}]}
    assert render.replica_addresses(replica, "unix:///var/run/docker.sock") == ["127.0.0.1:32768", "127.0.0.1:32769"]
    assert render.replica_addresses(replica, "tcp://10.0.0.5:2376") == ["10.0.0.5:32768", "127.0.0.1:32769"]
    assert render.replica_addresses(replica, "ssh://ops@edge-1:22") == ["edge-1:32768", "127.0.0.1:32769"]
    assert render.replica_addresses({"ports": [{"host_ip": "::1", "host_port": 5}]}, None) == ["[::1]:5"]


def test_host_row_and_sizes() -> None:
    host = {"name": "e2e", "state": "ready", "schedulable": True, "engine_version": "26.1",
            "cpus": 2.0, "memory_bytes": 8 * 1024**3, "containers": 4,
            "last_heartbeat_at": "2026-12-01T11:59:58Z", "url": "unix:///x.sock"}
    assert render.host_rows([host], NOW) == [
        ["e2e", "ready", "yes", "26.1", "2", "8.0GiB", "4", "2s ago", "unix:///x.sock"]]


# -- the dry run as a diff -----------------------------------------------------------

def test_dry_run_is_a_diff() -> None:
    result = {"dry_run": True, "new_revision": True, "revision": 4,
              "changes": [{"path": "image", "old": "web:1", "new": "web:2"},
                          {"path": "env.MODE", "old": None, "new": "fast"},
                          {"path": "ports", "old": [{"container_port": 80}], "new": None}],
              "actions": [{"action": "create", "host": "e2e", "slot": 0, "reason": "new template"}],
              "pending": ["slot 2: no host has room"]}
    assert render.dry_run_lines("web", result, "web.yaml") == [
        ("-", "--- web (current)"), ("+", "+++ web (web.yaml, revision 4 (new))"),
        ("-", "- image: web:1"), ("+", "+ image: web:2"),
        ("+", "+ env.MODE: fast"),
        ("-", '- ports: [{"container_port": 80}]'),
        ("#", "planned:"), (" ", "  create slot 0 on e2e: new template"),
        ("#", "pending: slot 2: no host has room"),
    ]


def test_dry_run_without_change() -> None:
    result = {"new_revision": False, "revision": 4, "changes": [], "actions": [], "pending": []}
    assert render.dry_run_lines("web", result, "web.yaml") == [("#", "deployment web: no change (revision 4)")]


# -- rollouts ------------------------------------------------------------------------

def rollout(state: str, updated: int = 0, ready: int = 0, message: str | None = None, kind: str = "update") -> dict:
    return {"id": "6bd74b12-aaaa", "kind": kind, "state": state, "message": message,
            "created_at": "2026-12-01T11:59:00Z",
            "progress": {"desired": 3, "updated": updated, "ready": ready, "unavailable": 0}}


@pytest.mark.parametrize(("r", "step"), [
    (rollout("pending"), "waiting for a worker"),
    (rollout("in_progress", 1, 0), "starting new replicas"),
    (rollout("in_progress", 3, 1), "waiting for replicas to be ready"),
    (rollout("in_progress", 3, 3), "removing old replicas"),
    (rollout("in_progress", 1, 0, "waiting for host paths\non e2e"), "waiting for host paths on e2e"),
    (rollout("rolled_back"), "rolled back"),
])
def test_rollout_step(r, step) -> None:
    assert render.rollout_step(r) == step


def test_outcome_lines() -> None:
    assert render.outcome_text("web", rollout("succeeded", 3, 3)) == \
        "web: update rollout 6bd74b12 succeeded (updated 3/3, ready 3/3)"
    assert render.outcome_text("web", rollout("failed", 1, 0, "progress deadline (8s) passed")) == \
        "web: update rollout 6bd74b12 failed: progress deadline (8s) passed"


def test_a_watch_looks_at_its_rollouts_events_and_newer_ones_only() -> None:
    w = watch.Watched("web", rollout("in_progress"))
    assert watch._concerns(w, {"rollout_id": "6bd74b12-aaaa", "time": "2026-11-01T00:00:00Z"})
    assert watch._concerns(w, {"rollout_id": None, "time": "2026-12-01T11:59:30Z"})
    assert not watch._concerns(w, {"rollout_id": "older", "time": "2026-12-01T11:00:00Z"})


def test_redactor_hides_these_values_longest_first() -> None:
    redact = redactor(["hunter2-long", "hunter2", "abc"])  # "abc": too short to redact
    assert redact("key=hunter2-long other=hunter2 abc") == "key=*** other=*** abc"
    assert redactor([])("nothing to hide") == "nothing to hide"
