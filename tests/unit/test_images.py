"""Pure pieces of pulling: which registry an image comes from, what a pull stream says,
which digest reference names an image, and how registry passwords enter the hashes."""

from __future__ import annotations

import pytest

from app.dockerhost.engine import ImageInfo
from app.dockerhost.pulls import PullProgress
from app.image_refs import registry_of, server_address
from app.schemas.deployments import DeploymentSpec
from app.services import specs


@pytest.mark.parametrize(("image", "registry"), [
    ("nginx", "docker.io"),
    ("nginx:1.27", "docker.io"),
    ("library/nginx@sha256:" + "a" * 64, "docker.io"),
    ("acme/web:1", "docker.io"),
    ("index.docker.io/acme/web:1", "docker.io"),
    ("registry-1.docker.io/acme/web:1", "docker.io"),
    ("ghcr.io/acme/web:1", "ghcr.io"),
    ("GHCR.IO/acme/web", "ghcr.io"),
    ("127.0.0.1:5000/moorage/web:v1", "127.0.0.1:5000"),
    ("localhost/web:1", "localhost"),
    ("localhost:5000/web", "localhost:5000"),
    ("[::1]:5000/web:1", "[::1]:5000"),
])
def test_registry_of(image: str, registry: str) -> None:
    assert registry_of(image) == registry


def test_docker_hub_credentials_use_its_v1_server_address() -> None:
    assert server_address("docker.io") == "https://index.docker.io/v1/"
    assert server_address("ghcr.io") == "ghcr.io"


def _layer(layer_id: str, status: str, current: int = 0, total: int = 0) -> dict:
    detail = {"current": current, "total": total} if total else {}
    return {"id": layer_id, "status": status, "progressDetail": detail}


def test_pull_progress_counts_layers_and_bytes() -> None:
    p = PullProgress()
    p.feed({"status": "Pulling from moorage/web", "id": "v1"})
    p.feed(_layer("a", "Already exists"))
    p.feed(_layer("b", "Pulling fs layer"))
    p.feed(_layer("c", "Waiting"))
    p.feed(_layer("b", "Downloading", 500_000, 2_000_000))
    assert p.summary() == "1/3 layers done, 0.5 of 2.0 MB downloaded"
    p.feed(_layer("b", "Download complete"))
    p.feed(_layer("c", "Downloading", 1_000_000, 1_000_000))
    p.feed(_layer("b", "Extracting", 100, 2_000_000))
    assert p.summary() == "1/3 layers done, 3.0 of 3.0 MB downloaded"
    p.feed(_layer("b", "Pull complete"))
    p.feed(_layer("c", "Pull complete"))
    p.feed({"status": "Digest: sha256:" + "d" * 64})
    p.feed({"status": "Status: Downloaded newer image for moorage/web:v1"})
    assert p.summary() == "3/3 layers done, 3.0 of 3.0 MB downloaded"
    assert p.digest == "sha256:" + "d" * 64 and p.error is None


def test_pull_progress_keeps_the_engines_error() -> None:
    p = PullProgress()
    p.feed(_layer("b", "Downloading", 10, 100))
    p.feed({"errorDetail": {"message": "unauthorized: authentication required"},
            "error": "unauthorized: authentication required"})
    assert p.error == "unauthorized: authentication required"
    p.feed("not a message")  # a stray line changes nothing
    assert p.summary() == "0/1 layers done, 0.0 of 0.0 MB downloaded"


def test_repo_digest_for_picks_the_references_repository() -> None:
    image = ImageInfo("sha256:" + "1" * 64, (
        "ghcr.io/acme/other@sha256:" + "2" * 64,
        "127.0.0.1:5000/moorage/web@sha256:" + "3" * 64,
    ))
    assert image.repo_digest_for("127.0.0.1:5000/moorage/web:v1") == (
        "127.0.0.1:5000/moorage/web@sha256:" + "3" * 64)
    assert image.repo_digest_for("127.0.0.1:5000/moorage/web") == (
        "127.0.0.1:5000/moorage/web@sha256:" + "3" * 64)
    assert image.repo_digest_for("moorage/web:v1") is None
    assert ImageInfo("sha256:" + "1" * 64).repo_digest_for("nginx:1") is None


KEY, OTHER_KEY = b"k" * 64, b"o" * 64


def _spec(**extra) -> DeploymentSpec:
    return DeploymentSpec.model_validate({"image": "ghcr.io/acme/web:1", **extra})


def test_a_registry_password_never_enters_the_public_spec_or_the_template() -> None:
    with_auth = _spec(registry_auth={"username": "ci", "password": "p4ssword"})
    public = specs.public_spec(with_auth)
    assert public["registry_auth"] == {"username": "ci"} and "p4ssword" not in str(public)
    other = specs.public_spec(_spec(registry_auth={"username": "ci", "password": "other"}))
    # Same template (no container replaced), different spec (a new revision).
    assert specs.template_hash(KEY, public, {}) == specs.template_hash(KEY, other, {})
    assert specs.spec_hash(KEY, public, {}, "p4ssword") != specs.spec_hash(KEY, other, {}, "other")
    restored = specs.stored_spec(public, {}, "p4ssword", with_auth.replicas)
    assert DeploymentSpec.model_validate(restored) == with_auth
    # The template names whose credentials pull, and never holds the password.
    template = specs.template(with_auth)
    assert template.registry_username == "ci" and "p4ssword" not in str(template.to_dict())
    assert template == specs.template(_spec(registry_auth={"username": "ci", "password": "other"}))


def test_specs_without_credentials_hash_as_before_the_field_existed() -> None:
    public = specs.public_spec(_spec())
    assert "registry_auth" not in public
    assert specs.spec_hash(KEY, public, {"K": "v"}) == specs.spec_hash(KEY, public, {"K": "v"}, None)
    assert (specs.unkeyed_spec_hash(public, {"K": "v"})
            == specs.unkeyed_spec_hash(public, {"K": "v"}, None))


def test_template_hashes_are_keyed_so_no_wordlist_finds_a_secret() -> None:
    """A container's name ends with the template hash, and a reader sees names. Unkeyed
    (before 0012), a wordlist over the one unknown, the secret, found it; keyed, the same
    search finds nothing, and another installation's key makes another hash."""
    from app.reconcile.planner import container_name

    public = specs.public_spec(_spec(env={"DB_USER": "app"}))
    words = ["123456", "password", "letmein", "hunter2", "qwerty"]
    secret = {"DB_PASSWORD": "hunter2"}

    def found(suffix: str, candidate) -> list[str]:
        return [w for w in words if candidate({"DB_PASSWORD": w}).startswith(suffix)]

    unkeyed = container_name("web", 0, specs.unkeyed_template_hash(public, secret))
    assert found(unkeyed.rsplit(".", 1)[1],
                 lambda s: specs.unkeyed_template_hash(public, s)) == ["hunter2"]  # the old leak

    keyed = specs.template_hash(KEY, public, secret)
    suffix = container_name("web", 0, keyed).rsplit(".", 1)[1]
    assert found(suffix, lambda s: specs.unkeyed_template_hash(public, s)) == []
    assert found(suffix, lambda s: specs.template_hash(OTHER_KEY, public, s)) == []
    assert keyed != specs.template_hash(OTHER_KEY, public, secret)
    assert keyed == specs.template_hash(KEY, dict(public), dict(secret))  # stable, though
    assert specs.spec_hash(KEY, public, secret) not in (
        specs.unkeyed_spec_hash(public, secret), specs.spec_hash(OTHER_KEY, public, secret))


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_STATUSES = ("Pulling fs layer", "Waiting", "Downloading", "Verifying Checksum",
             "Download complete", "Extracting", "Pull complete", "Already exists")


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(_STATUSES),
                          st.integers(0, 10**8), st.integers(0, 10**8)), max_size=60))
def test_pull_progress_never_claims_more_than_there_is(messages) -> None:
    p = PullProgress()
    for layer_id, status, current, total in messages:
        p.feed(_layer(layer_id, status, current, total))
        assert 0 <= p.done_layers <= len(p.layers) <= 4
        summary = p.summary()
        if "MB downloaded" in summary:
            got, of = summary.split(", ")[1].removesuffix(" MB downloaded").split(" of ")
            assert float(got) <= float(of)


@pytest.mark.parametrize(("message", "temporary"), [
    # What engines said in this project's tests and in the registry's documentation.
    ('Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
     True),
    ("Get https://ghcr.io/v2/: net/http: TLS handshake timeout", True),
    ('Head "https://registry-1.docker.io/v2/library/nginx/manifests/1": '
     "toomanyrequests: You have reached your pull rate limit.", True),
    ("received unexpected HTTP status: 503 Service Unavailable", True),
    ('Head "http://127.0.0.1:5123/v2/moorage/web/manifests/v1": no basic auth credentials',
     False),
    ("unauthorized: authentication required", False),
    ("manifest for 127.0.0.1:5123/moorage/absent:v1 not found: manifest unknown", False),
    ("pull access denied for moorage/nope, repository does not exist or may require "
     "'docker login'", False),
    ('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on '
     "10.0.0.53:53: no such host", False),
])
def test_which_pull_failures_are_worth_retrying(message: str, temporary: bool) -> None:
    from app.dockerhost.pulls import pull_failure_is_temporary

    assert pull_failure_is_temporary(message) is temporary


def test_pull_progress_reports_thin_out_as_a_pull_drags_on() -> None:
    from app.dockerhost.pulls import PROGRESS_MAX_S, progress_interval

    intervals = [progress_interval(n, 2.0) for n in range(500)]
    assert intervals[:15] == [2.0] * 15 and intervals[15] == 4.0
    assert intervals == sorted(intervals) and max(intervals) == PROGRESS_MAX_S
    elapsed, reports = 0.0, 0
    while elapsed < 3600:  # an hour-long pull
        elapsed += progress_interval(reports, 2.0)
        reports += 1
    assert reports < 150  # not 1,800 rows
