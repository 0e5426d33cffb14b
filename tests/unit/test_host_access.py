"""Which host paths a deployment may bind: normalisation, allow lists, escalation paths."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.reconcile.host_access import (
    ESCALATION_PATHS,
    AllowEntry,
    Bind,
    binds_of,
    normalise,
    parse_csv,
    parse_entries,
    protected_paths,
    refusal,
    within,
)

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Segments that make the interesting collisions likely: escalation names, near-misses.
SEGMENTS = ["", ".", "..", "a", "data", "database", "etc", "proc", "var", "run", "lib",
            "docker", "docker.sock", "srv", "tmp", "sys", "dev", "usr", "containerd", "1"]
raw_paths = st.lists(st.sampled_from(SEGMENTS), max_size=6).map(lambda s: "/" + "/".join(s))
clean_paths = raw_paths.filter(lambda p: ".." not in p.split("/")).map(normalise)
entries = st.builds(AllowEntry, clean_paths, st.booleans())
allow_lists = st.lists(entries, max_size=5).map(tuple)


def allowed(source: str, allow: list[str] | tuple[str, ...], read_only: bool = False,
            protected: tuple[str, ...] = ESCALATION_PATHS) -> str | None:
    return refusal(Bind(0, normalise(source), read_only), parse_entries(allow), protected)


# ---- normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "clean"), [
    ("/", "/"), ("//", "/"), ("//etc", "/etc"), ("/srv/./web/", "/srv/web"),
    ("/srv//web///", "/srv/web"), ("/./", "/"), ("/srv/web.d", "/srv/web.d"),
    ("/srv/...", "/srv/..."), ("/srv/..x", "/srv/..x"),
])
def test_normalise(raw: str, clean: str) -> None:
    assert normalise(raw) == clean


@pytest.mark.parametrize(("raw", "says"), [
    ("/../../etc", "'..'"), ("/etc/../etc/shadow", "'..'"), ("/srv/..", "'..'"),
    ("/srv/../", "'..'"), ("etc", "absolute"), ("./etc", "absolute"), ("../etc", "absolute"),
    ("", "absolute"), ("/srv:/etc", "not contain ':'"), ("/srv/x:ro", "not contain ':'"),
    ("/srv\nx", "must not contain"), ("/srv\x00", "must not contain"),
])
def test_normalise_refuses(raw: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        normalise(raw)


@PROPS
@given(raw_paths)
def test_normalising_is_idempotent_and_canonical(raw: str) -> None:
    if ".." in raw.split("/"):
        with pytest.raises(ValueError):
            normalise(raw)
        return
    clean = normalise(raw)
    assert normalise(clean) == clean
    assert clean.startswith("/") and "//" not in clean and "/./" not in clean
    assert clean == "/" or not clean.endswith(("/", "/."))
    assert [s for s in raw.split("/") if s not in ("", ".")] == [s for s in clean.split("/") if s]


@PROPS
@given(raw_paths, st.lists(entries, max_size=4))
def test_a_dot_dot_segment_is_never_accepted(raw: str, allow: list[AllowEntry]) -> None:
    path = raw + "/../x"
    with pytest.raises(ValueError, match="'..'"):
        normalise(path)
    bind = binds_of([{"source": path, "target": "/x"}])[0]
    assert bind.problem and refusal(bind, allow) is not None


# ---- matching by segments --------------------------------------------------------------


@pytest.mark.parametrize(("path", "prefix", "inside"), [
    ("/data", "/data", True), ("/data/x", "/data", True), ("/database", "/data", False),
    ("/data", "/data/x", False), ("/anything", "/", True), ("/", "/", True),
    ("/var/run", "/var/r", False),
])
def test_within(path: str, prefix: str, inside: bool) -> None:
    assert within(path, prefix) is inside


@PROPS
@given(clean_paths, st.text("abc.-_", min_size=1, max_size=4))
def test_a_prefix_never_matches_part_of_a_segment(prefix: str, tail: str) -> None:
    assume(prefix != "/")
    assert not within(prefix + tail, prefix)
    assert allowed(prefix + tail, [f"{prefix}:ro"], read_only=True) is not None


# ---- the attacks -----------------------------------------------------------------------

ATTACKS = ["/", "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
           "/proc", "/proc/1/root", "/proc/sys/kernel/core_pattern", "/dev/mem", "/dev/sda",
           "//etc", "/etc/shadow", "/sys/kernel", "/sys/fs/cgroup", "/var/lib/docker",
           "/var/lib/containerd", "/root/.ssh", "/home/admin/.ssh", "/boot", "/usr/bin",
           "/lib", "/bin", "/sbin", "/tmp/tmux-0", "/var/spool/cron/crontabs", "/var",
           "/var/lib", "/run"]
# Entries above the attacks, beside them, or sharing a name's first letters: none unlocks.
BROAD = [[], ["/"], ["/:ro"], ["/var:ro"], ["/var"], ["/srv"],
         ["/etc/nginx:ro", "/var/run/docker.sock.d:ro", "/var/lib/dockerd:ro", "/procfs:ro"]]


@pytest.mark.parametrize("source", ATTACKS)
@pytest.mark.parametrize("allow", BROAD, ids=lambda a: ",".join(a) or "none")
@pytest.mark.parametrize("read_only", [False, True], ids=["rw", "ro"])
def test_escalation_paths_are_refused_unless_explicitly_allowed(
    source: str, allow: list[str], read_only: bool
) -> None:
    assert allowed(source, allow, read_only) is not None


@pytest.mark.parametrize("source", ["/../../etc", "/etc/../etc/shadow", "/srv/../etc",
                                    "etc/passwd", "./etc", "/srv:/etc"])
def test_paths_that_are_not_canonical_host_paths_are_refused(source: str) -> None:
    with pytest.raises(ValueError):
        normalise(source)
    (bind,) = binds_of([{"source": source, "target": "/x"}])
    assert refusal(bind, parse_entries(["/:ro", "/srv:ro", "/etc:ro"]), ()) == bind.problem


@pytest.mark.parametrize(("source", "allow", "read_only"), [
    ("/var/run/docker.sock", ["/var/run/docker.sock"], False),
    ("/var/run/docker.sock", ["/var/run/docker.sock"], True),
    ("/proc/1/root", ["/proc:ro"], True),
    ("/proc", ["/proc:ro"], True),
    ("/etc/nginx/conf.d", ["/etc/nginx:ro"], True),
    ("/run/containerd/containerd.sock", ["/run:ro"], True),
    ("/run", ["/run"], False),
    ("/", ["/:ro", *(f"{p}:ro" for p in ESCALATION_PATHS)], True),
    ("/var", ["/var", "/var/lib/containerd", "/var/lib/containers", "/var/lib/docker",
              "/var/run", "/var/spool/cron"], False),
])
def test_an_entry_at_or_below_the_escalation_path_unlocks_it(
    source: str, allow: list[str], read_only: bool
) -> None:
    assert allowed(source, allow, read_only) is None


@PROPS
@given(st.sampled_from(ESCALATION_PATHS), clean_paths, allow_lists, st.booleans())
def test_no_entry_above_an_escalation_path_unlocks_it(
    escalation: str, tail: str, allow: tuple[AllowEntry, ...], read_only: bool
) -> None:
    source = normalise(escalation + tail)
    above = tuple(e for e in allow if not within(e.path, escalation))
    assert refusal(Bind(0, source, read_only), above) is not None


@PROPS
@given(st.sampled_from(ESCALATION_PATHS), allow_lists, st.booleans())
def test_binding_above_an_escalation_path_needs_it_listed_itself(
    escalation: str, allow: tuple[AllowEntry, ...], read_only: bool
) -> None:
    without = tuple(e for e in allow if e.path != escalation)
    parts = escalation.split("/")[1:]
    for n in range(len(parts)):  # "/", "/var", "/var/lib" for /var/lib/docker
        source = "/" + "/".join(parts[:n])
        assert refusal(Bind(0, source, read_only), without) is not None


@PROPS
@given(clean_paths, allow_lists, st.booleans())
def test_what_is_allowed_is_covered_by_an_entry_of_the_right_mode(
    source: str, allow: tuple[AllowEntry, ...], read_only: bool
) -> None:
    if refusal(Bind(0, source, read_only), allow, ()) is None:
        assert any((e.path == source or (e.read_only and within(source, e.path)))
                   and (read_only or not e.read_only) for e in allow)


@PROPS
@given(clean_paths, allow_lists)
def test_read_only_entries_never_allow_a_read_write_bind(
    source: str, allow: tuple[AllowEntry, ...]
) -> None:
    ro = tuple(AllowEntry(e.path, True) for e in allow)
    assert refusal(Bind(0, source, False), ro, ()) is not None


@PROPS
@given(clean_paths, clean_paths, allow_lists, st.booleans())
def test_nothing_below_a_read_write_entry_is_bound(
    entry: str, tail: str, allow: tuple[AllowEntry, ...], read_only: bool
) -> None:
    source = normalise(entry + "/x" + tail)
    rw = (*allow, AllowEntry(entry), AllowEntry(source, True), AllowEntry(source))
    assert refusal(Bind(0, source, read_only), rw, ()) is not None


@PROPS
@given(clean_paths, allow_lists, allow_lists, st.booleans())
def test_more_read_only_entries_never_refuse_what_was_allowed(
    source: str, allow: tuple[AllowEntry, ...], more: tuple[AllowEntry, ...], read_only: bool
) -> None:
    extra = tuple(AllowEntry(e.path, True) for e in more)
    if refusal(Bind(0, source, read_only), allow) is None:
        assert refusal(Bind(0, source, read_only), allow + extra) is None


@PROPS
@given(raw_paths, allow_lists, st.booleans())
def test_spellings_of_one_path_are_judged_alike(
    raw: str, allow: tuple[AllowEntry, ...], read_only: bool
) -> None:
    assume(".." not in raw.split("/"))
    spelled = raw.replace("/", "//./") + "/"
    a, b = (binds_of([{"source": s, "target": "/x", "read_only": read_only}])[0]
            for s in (raw, spelled))
    assert a == b and refusal(a, allow) == refusal(b, allow)


# ---- reasons, entries, the host's own paths ----------------------------------------------


@pytest.mark.parametrize(("source", "allow", "read_only", "says"), [
    ("/srv/web", [], False, "none is allowed: an admin allows them"),
    ("/srv/web", ["/srv/api"], False, "/srv/web is not an allowed host path"),
    ("/srv/web", ["/srv:ro"], False, "allowed read-only only: set read_only: true"),
    ("/srv/web", ["/srv"], True, "below /srv, which containers may write: a symlink"),
    ("/proc/1/root", ["/:ro"], True, "under /proc, which gives root on the host: only an "
                                     "allowed entry at or below /proc unlocks it"),
    ("/proc", ["/:ro"], True, "/proc is /proc, which gives root"),
    ("/var", ["/var"], False, "/var contains /var/lib/containerd, which gives root on the "
                              "host: binding it needs /var/lib/containerd itself allowed"),
])
def test_refusals_say_why(source: str, allow: list[str], read_only: bool, says: str) -> None:
    why = allowed(source, allow, read_only)
    assert why is not None and says in why, why


def test_the_engines_own_socket_and_data_root_are_escalation_paths() -> None:
    own = protected_paths(["/srv/docker.sock", "/data/docker", None, "relative", "/"])
    assert own == (*ESCALATION_PATHS, "/srv/docker.sock", "/data/docker")
    assert allowed("/srv/docker.sock", ["/srv:ro"], True) is None  # elsewhere, just a path
    assert allowed("/srv/docker.sock", ["/srv:ro"], True, own) is not None
    assert allowed("/data/docker/overlay2", ["/data:ro"], True, own) is not None
    assert allowed("/data", ["/data"], False, own) is not None  # it contains the data root
    assert allowed("/srv/docker.sock", ["/srv/docker.sock"], False, own) is None


def test_entries_parse_to_a_canonical_form() -> None:
    assert parse_csv(" /srv//web/ , /srv/config:ro,, /srv/config:ro ,/x:rw") == (
        AllowEntry("/srv/web"), AllowEntry("/srv/config", True), AllowEntry("/x"))
    assert [str(e) for e in parse_csv("/srv/web,/srv/config:ro")] == ["/srv/web", "/srv/config:ro"]
    assert parse_csv("") == parse_csv(" , ") == ()
    for bad in ("/a/../b", "srv", "/srv:rx", "/a:b:ro"):
        with pytest.raises(ValueError, match=repr(bad)):
            parse_csv(bad)


def test_binds_of_skips_named_volumes() -> None:
    volumes = [{"source": "data", "target": "/d"}, {"source": "//srv/./x/", "target": "/x",
                                                  "read_only": True}]
    assert binds_of(volumes) == (Bind(1, "/srv/x", True),)
