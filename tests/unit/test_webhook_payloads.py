"""Webhook payload parsing, on the providers' documented example payloads
(tests/support/webhook_payloads.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from app.image_refs import split_reference
from app.services.webhook_payloads import (
    Decision,
    PayloadError,
    decide,
    sign,
    verify_signature,
)
from app.storable import storable_text
from tests.support.webhook_payloads import (
    DIGEST,
    DOCKERHUB_PUSH,
    GITHUB_PACKAGE,
    GITHUB_PING,
    GITHUB_REGISTRY_PACKAGE,
    MANIFEST,
    OTHER_DIGEST,
    REGISTRY_ENVELOPE,
    raw,
    registry_event,
    tagged,
)

# -- references ------------------------------------------------------------------------


@pytest.mark.parametrize(("ref", "repository", "tag", "digest"), [
    ("nginx", "docker.io/library/nginx", None, None),
    ("nginx:1.27", "docker.io/library/nginx", "1.27", None),
    ("acme/web:2", "docker.io/acme/web", "2", None),
    ("docker.io/acme/web", "docker.io/acme/web", None, None),
    ("index.docker.io/library/nginx:1", "docker.io/library/nginx", "1", None),
    ("ghcr.io/Acme/Web:1.0", "ghcr.io/acme/web", "1.0", None),
    ("localhost:5000/app:dev", "localhost:5000/app", "dev", None),
    ("localhost/app", "localhost/app", None, None),
    (f"registry.local:5000/team/app:1@{DIGEST}", "registry.local:5000/team/app", "1", DIGEST),
    (f"app@{DIGEST}", "docker.io/library/app", None, DIGEST),
])
def test_split_reference(ref: str, repository: str, tag: str | None, digest: str | None) -> None:
    r = split_reference(ref)
    assert (r.repository, r.tag, r.digest) == (repository, tag, digest)


# -- signatures ------------------------------------------------------------------------


def test_signature_round_trip_and_forgeries() -> None:
    body = raw({"tag": "1.2"})
    good = sign("s3cret", body)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert verify_signature("s3cret", body, good)
    assert verify_signature("s3cret", body, good.upper().replace("SHA256=", "sha256="))
    assert not verify_signature("s3cret", body + b" ", good)  # another body
    assert not verify_signature("other", body, good)  # another secret
    assert not verify_signature("s3cret", body, None)
    assert not verify_signature("s3cret", body, "")
    assert not verify_signature("s3cret", body, good.removeprefix("sha256="))  # no scheme
    assert not verify_signature("s3cret", body, "sha1=" + good[7:])
    assert not verify_signature("s3cret", body, "sha256=")
    assert not verify_signature("s3cret", body, "sha256=" + "é" * 64)  # not even ASCII


# -- generic ---------------------------------------------------------------------------


@pytest.mark.parametrize(("payload", "pattern", "image", "reason"), [
    ({"tag": "1.28"}, None, "nginx:1.28", None),
    ({"tag": "1.28", "nonce": "abc"}, None, "nginx:1.28", None),  # extra fields are fine
    ({"tag": "1.27"}, None, None, "nginx:1.27 is already running"),
    ({"image": "ghcr.io/acme/web:2"}, None, "ghcr.io/acme/web:2", None),
    ({"image": "nginx:1.27"}, None, None, "nginx:1.27 is already running"),
    ({"tag": "dev"}, r"\d+\.\d+", None, "tag 'dev' does not match tag_pattern"),
    ({"tag": "1.28-rc1"}, r"\d+\.\d+", None, "tag '1.28-rc1' does not match tag_pattern"),
    ({"tag": "1.28"}, r"\d+\.\d+", "nginx:1.28", None),
    ({"image": f"nginx@{DIGEST}"}, r".*", None, "the image has no tag to match tag_pattern"),
    ({"image": f"nginx@{DIGEST}"}, None, f"nginx@{DIGEST}", None),
])
def test_generic(payload: dict[str, Any], pattern: str | None, image: str | None,
                 reason: str | None) -> None:
    d = decide("generic", raw(payload), "nginx:1.27", pattern)
    assert d.image == image
    assert not d.repin
    if reason:
        assert d.reason == reason


@pytest.mark.parametrize("body", [
    b"", b"not json", b"[1, 2]", b'"tag"', b"null", raw({}), raw({"tag": ""}), raw({"tag": 5}),
    raw({"tag": "bad tag"}), raw({"tag": "-x"}), raw({"tag": "x" * 129}), raw({"image": "a:b:c"}),
    raw({"image": "nginx:1 0"}), raw({"image": "x" * 600}), raw({"tag": None}),
    b"[" * 100_000 + b"]" * 100_000,  # deep enough to exhaust the parser's recursion
    "{\"tag\": \"1.0\u202e\"}".encode(), raw({"tag": "1.0\u200b"}),
], ids=lambda b: repr(b[:20]))
def test_generic_malformed(body: bytes) -> None:
    with pytest.raises(PayloadError):
        decide("generic", body, "nginx:1.27", None)


# -- GitHub ----------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["registry_package", "package"])
def test_github_tagged_push_deploys_the_pinned_tag(event: str) -> None:
    payload = tagged(GITHUB_REGISTRY_PACKAGE if event == "registry_package" else GITHUB_PACKAGE,
                     event, "1.1")
    d = decide("github", raw(payload), "ghcr.io/codertocat/hello-world:1.0", None, event)
    assert d == Decision(f"ghcr.io/codertocat/hello-world:1.1@{DIGEST}",
                         f"image ghcr.io/codertocat/hello-world:1.0 → "
                         f"ghcr.io/codertocat/hello-world:1.1@{DIGEST}")
    # Without the event header the shape tells.
    assert decide("github", raw(payload), "ghcr.io/codertocat/hello-world:1.0", None).image == d.image


def test_github_documented_example_is_an_untagged_version() -> None:
    d = decide("github", raw(GITHUB_REGISTRY_PACKAGE), "ghcr.io/codertocat/hello-world:1.0", None,
               "registry_package")
    assert d.image is None and "untagged" in d.reason


def test_github_ping_and_other_events_are_answered_not_applied() -> None:
    assert decide("github", raw(GITHUB_PING), "nginx:1", None, "ping") == Decision(None, "ping")
    assert decide("github", raw(GITHUB_PING), "nginx:1", None).reason == "ping"
    d = decide("github", raw({"ref": "refs/heads/main"}), "nginx:1", None, "push")
    assert d.image is None and "'push'" in d.reason


def test_github_filters() -> None:
    current = "ghcr.io/codertocat/hello-world:1.0"
    payload = tagged(GITHUB_REGISTRY_PACKAGE, "registry_package", "1.1")
    other = copy.deepcopy(payload)
    other["registry_package"]["package_version"]["package_url"] = "ghcr.io/codertocat/other:1.1"
    assert "not this deployment's repository" in decide("github", raw(other), current, None).reason
    deleted = {**payload, "action": "deleted"}
    assert "'deleted'" in decide("github", raw(deleted), current, None).reason
    npm = copy.deepcopy(payload)
    npm["registry_package"]["ecosystem"] = "npm"
    assert decide("github", raw(npm), current, None).reason == "not a container package"
    assert "does not match" in decide("github", raw(payload), current, r"2\..*").reason
    same = decide("github", raw(payload), f"ghcr.io/codertocat/hello-world:1.1@{DIGEST}", None)
    assert same.image is None and "already running" in same.reason


def test_github_same_tag_without_digest_is_a_moved_tag() -> None:
    payload = tagged(GITHUB_REGISTRY_PACKAGE, "registry_package", "latest", digest=None)
    d = decide("github", raw(payload), "ghcr.io/codertocat/hello-world:latest", None)
    assert d.image == "ghcr.io/codertocat/hello-world:latest" and d.repin


def test_github_malformed() -> None:
    with pytest.raises(PayloadError):
        decide("github", raw({"action": "published", "registry_package": "x"}), "a:b", None,
               "registry_package")
    bad_tag = tagged(GITHUB_REGISTRY_PACKAGE, "registry_package", "a b")
    with pytest.raises(PayloadError):
        decide("github", raw(bad_tag), "ghcr.io/codertocat/hello-world:1", None)


# -- Docker Hub ------------------------------------------------------------------------


def test_dockerhub_push() -> None:
    payload = copy.deepcopy(DOCKERHUB_PUSH)
    payload["push_data"]["tag"] = "v2"
    d = decide("dockerhub", raw(payload), "svendowideit/testhook:v1", None)
    assert d.image == "svendowideit/testhook:v2" and not d.repin
    # As documented (tag latest) on a deployment running latest: the tag moved.
    d = decide("dockerhub", raw(DOCKERHUB_PUSH), "docker.io/svendowideit/testhook:latest", None)
    assert d.image == "docker.io/svendowideit/testhook:latest" and d.repin
    assert "not this deployment's repository" in decide(
        "dockerhub", raw(DOCKERHUB_PUSH), "ghcr.io/svendowideit/testhook:1", None).reason
    assert "does not match" in decide(
        "dockerhub", raw(DOCKERHUB_PUSH), "svendowideit/testhook:1", r"v\d+").reason
    with pytest.raises(PayloadError):
        decide("dockerhub", raw({"push_data": {"tag": "x"}}), "svendowideit/testhook:1", None)


# -- Docker Registry -------------------------------------------------------------------


def test_registry_envelope_takes_the_manifest_push_and_skips_layers() -> None:
    d = decide("registry", raw(REGISTRY_ENVELOPE), "registry.local:5000/library/test:1.0", None)
    assert d.image == f"registry.local:5000/library/test:1.1@{DIGEST}"
    assert d.event_id == "asdf-asdf-asdf-asdf-0"


def test_registry_envelope_with_several_pushes_takes_the_last_matching_one() -> None:
    envelope = {"events": [
        registry_event(0, MANIFEST, DIGEST, tag="1.1"),
        registry_event(1, MANIFEST, OTHER_DIGEST, tag="1.2", repository="other/app"),
        registry_event(2, MANIFEST, OTHER_DIGEST, tag="1.3-rc"),
        registry_event(3, MANIFEST, OTHER_DIGEST, tag="1.2"),
        registry_event(4, MANIFEST, DIGEST, tag="1.4", action="pull"),
    ]}
    d = decide("registry", raw(envelope), "registry.local:5000/library/test:1.0", r"\d+\.\d+")
    assert d.image == f"registry.local:5000/library/test:1.2@{OTHER_DIGEST}"
    assert d.event_id == "asdf-asdf-asdf-asdf-3"


@pytest.mark.parametrize(("events", "pattern", "reason"), [
    ([], None, "no tagged manifest push"),
    ([registry_event(0, MANIFEST, DIGEST)], None, "no tagged manifest push"),  # by digest
    ([registry_event(0, MANIFEST, DIGEST, tag="1.1", action="pull")], None, "no tagged manifest push"),
    ([registry_event(0, MANIFEST, DIGEST, tag="1.1", repository="x/y")], None, "x/y"),
    ([registry_event(0, MANIFEST, DIGEST, tag="dev")], r"\d+", "'dev' do not match"),
])
def test_registry_ignores(events: list[dict[str, Any]], pattern: str | None, reason: str) -> None:
    d = decide("registry", raw({"events": events}), "registry.local:5000/library/test:1.0", pattern)
    assert d.image is None and reason in d.reason


def test_registry_same_digest_is_already_running() -> None:
    d = decide("registry", raw(REGISTRY_ENVELOPE),
               f"registry.local:5000/library/test:1.1@{DIGEST}", None)
    assert d.image is None and "already running" in d.reason


@pytest.mark.parametrize("payload", [
    {"events": "x"}, {"events": [1]}, {"events": [{"action": "push", "target": "x"}]},
    {"nope": []}, {"events": [{"action": "push", "target": {"mediaType": MANIFEST, "tag": "1"}}]},
])
def test_registry_malformed(payload: Any) -> None:
    with pytest.raises(PayloadError):
        decide("registry", raw(payload), "registry.local:5000/library/test:1.0", None)



# -- text no database stores --------------------------------------------------------------

# A NUL (Postgres refuses it in text) and lone surrogates (no UTF-8 encodes them); json
# reads both from escapes ("\u0000", "\ud800").
UNSTORABLE = ["evil\x00x", "evil\ud800", "\udfffevil"]
DOCUMENTED = [
    ("dockerhub", DOCKERHUB_PUSH, "svendowideit/testhook:latest", None),
    ("github", tagged(GITHUB_PACKAGE, "package", "1.1"), "ghcr.io/codertocat/hello-world:1.0",
     "package"),
    ("registry", REGISTRY_ENVELOPE, "registry.local:5000/library/test:1.0", None),
    ("generic", {"tag": "1.28", "nonce": "n"}, "nginx:1.27", None),
]


def string_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, str):
        return [path]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return [p for key, child in items for p in string_paths(child, (*path, key))]


def replaced(payload: Any, path: tuple[Any, ...], value: str) -> Any:
    changed = copy.deepcopy(payload)
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return changed


def stored_text(kind: str, body: bytes, image: str, event: str | None) -> list[str]:
    """What a delivery of ``body`` would store: the decision's text, or the malformed
    payload's message."""
    try:
        d = decide(kind, body, image, None, event)
    except PayloadError as exc:
        return [str(exc)]
    return [t for t in (d.image, d.reason, d.event_id) if t is not None]


@pytest.mark.parametrize("bad", UNSTORABLE, ids=["nul", "surrogate", "trailing-surrogate"])
@pytest.mark.parametrize(("kind", "payload", "image", "event"), DOCUMENTED,
                         ids=[k for k, *_ in DOCUMENTED])
def test_whatever_field_holds_unstorable_text_what_is_stored_is_storable_text(
        kind: str, payload: Any, image: str, event: str | None, bad: str) -> None:
    """A repository name the payload gives went unchecked into the delivery's reason, and
    Postgres refused it: the delivery was not recorded, and the answer was a 500."""
    for path in string_paths(payload):
        body = json.dumps(replaced(payload, path, bad)).encode()
        assert all(storable_text(t) for t in stored_text(kind, body, image, event)), (path, bad)


@pytest.mark.parametrize("bad", UNSTORABLE, ids=["nul", "surrogate", "trailing-surrogate"])
@pytest.mark.parametrize(("kind", "payload", "path", "image", "event"), [
    ("dockerhub", DOCKERHUB_PUSH, ("repository", "repo_name"), "nginx:1.27", None),
    ("github", tagged(GITHUB_PACKAGE, "package", "1.1"),
     ("package", "package_version", "package_url"), "nginx:1.27", "package"),
    ("registry", REGISTRY_ENVELOPE, ("events", 0, "target", "repository"), "nginx:1.27", None),
], ids=["dockerhub-repo_name", "github-package_url", "registry-target.repository"])
def test_a_repository_named_with_unstorable_text_is_a_malformed_payload(
        kind: str, payload: Any, path: tuple[Any, ...], image: str, event: str | None,
        bad: str) -> None:
    body = json.dumps(replaced(payload, path, bad)).encode()
    with pytest.raises(PayloadError, match="no database can store"):
        decide(kind, body, image, None, event)


def test_storable() -> None:
    assert storable_text("docker.io/library/nginx is not this deployment's repository")
    assert storable_text("ünïcode \U0001f600")  # a pair in JSON, one code point here
    assert not any(storable_text(t) for t in UNSTORABLE)
