"""What a webhook delivery asks for: pure functions, no I/O.

Each provider's payload becomes a ``Decision``: the image reference to deploy, or the
reason to ignore the delivery. A webhook moves its deployment to another tag (or digest)
of the repository it already runs; it never swaps in another repository, because a
registry notifies about every repository it holds. Only the generic ``{"image"}``
payload names a whole reference, and it is signed by a secret only the CI knows.

Provider formats (from their documentation):
- generic: ``{"image": "registry/app:1.2"}`` or ``{"tag": "1.2"}``; other fields are
  ignored (a CI may add a nonce to redeploy a tag it deployed before).
- GitHub: ``package`` / ``registry_package`` events (``X-GitHub-Event``), action
  ``published``/``updated``, ``package_version.package_url`` (``ghcr.io/owner/name:tag``)
  and ``package_version.container_metadata.tag.{name,digest}``; ``ping`` on setup.
- Docker Hub: ``push_data.tag`` and ``repository.repo_name``.
- Docker Registry v2 notifications: an envelope ``{"events": [...]}`` of several events;
  ``action == "push"``, ``target.repository``, ``target.tag``, ``target.digest``,
  ``target.mediaType`` (layer pushes come in the same envelope and are skipped).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from app import tag_patterns
from app.image_refs import Ref, split_reference
from app.schemas.deployments import IMAGE_REF
from app.storable import storable_text

TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
EVENT_ID = re.compile(r"[\x21-\x7e]{1,255}")
MAX_IMAGE = 512


class PayloadError(ValueError):
    """The body is not the payload this kind of webhook sends. Its message is stored (the
    delivery's reason): a payload's text is quoted in it with ``!r``, which escapes what
    a database cannot store."""


@dataclass(frozen=True)
class Decision:
    """What a delivery asks for. Everything in it is stored (the delivery's reason, the
    deployment's event, the image in a revision) and much of it is the payload's text (a
    repository named in it, say): text no database stores makes the payload malformed,
    whichever field of it the text came from."""

    image: str | None  # the reference to deploy; None: ignore
    reason: str
    repin: bool = False  # same reference, but the tag moved: resolve it again
    event_id: str | None = None  # a delivery id carried (and signed) in the body

    def __post_init__(self) -> None:
        if not all(storable_text(text) for text in (self.image, self.reason, self.event_id)
                   if text is not None):
            raise PayloadError("it holds text no database can store (a NUL character or "
                               "an unpaired UTF-16 surrogate)")


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``, compared in
    constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    given = header.removeprefix("sha256=").strip().lower().encode("latin-1", "replace")
    return hmac.compare_digest(expected, given)


def verify_bearer(secret: str, header: str | None) -> bool:
    """``Authorization: Bearer <secret>``, compared in constant time: what a Docker
    registry can send (its notifications carry static headers, and no signature)."""
    if not header or not header.startswith("Bearer "):
        return False
    given = header.removeprefix("Bearer ").strip().encode("latin-1", "replace")
    return hmac.compare_digest(secret.encode(), given)


def sign(secret: str, body: bytes) -> str:
    """The header value a sender computes (for tests and for clients' documentation)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    return payload


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be an object")
    return value


def _str(value: Any, what: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise PayloadError(f"{what} must be a non-empty string")
    return value


def _tag(value: Any, what: str) -> str | None:
    tag = _str(value, what, required=False)
    if not tag:
        return None
    if not TAG.fullmatch(tag):
        raise PayloadError(f"{what} is not a valid image tag")
    return tag


def _digest(value: Any) -> str | None:
    return value if isinstance(value, str) and DIGEST.fullmatch(value) else None


def _filtered(tag: str | None, tag_pattern: str | None) -> str | None:
    """Why ``tag`` is filtered out, or None when it passes."""
    if tag_pattern is None:
        return None
    if tag is None:
        return "the image has no tag to match tag_pattern"
    try:
        if not tag_patterns.matches(tag_pattern, tag):
            return f"tag {tag!r} does not match tag_pattern"
    except tag_patterns.PatternError as exc:
        return f"tag_pattern cannot be matched ({exc}); make the webhook again with one that is"
    return None


def _move(current: Ref, current_image: str, tag: str, digest: str | None,
          event_id: str | None = None) -> Decision:
    """Deploy ``tag`` (pinned to ``digest`` when the provider said which) of the current
    repository. A push of the tag already deployed, with no digest to tell whether it
    changed, means the tag moved: resolve it again."""
    image = f"{current.name}:{tag}" + (f"@{digest}" if digest else "")
    if image == current_image and digest:
        return Decision(None, f"{image} is already running", event_id=event_id)
    if image == current_image:
        return Decision(image, f"{image} was pushed again", repin=True, event_id=event_id)
    return Decision(image, f"image {current_image} → {image}", event_id=event_id)


def _checked(decision: Decision) -> Decision:
    if decision.image is not None and (
        len(decision.image) > MAX_IMAGE or not IMAGE_REF.match(decision.image)
    ):
        raise PayloadError(f"{decision.image!r} is not a valid image reference")
    return decision


def decide(kind: str, body: bytes, current_image: str, tag_pattern: str | None,
           github_event: str | None = None) -> Decision:
    """What a delivery to a webhook of ``kind`` asks of a deployment running
    ``current_image``. Raises PayloadError for a body that is not such a payload."""
    payload = load(body)
    current = split_reference(current_image)
    if kind == "generic":
        return _checked(_generic(payload, current, current_image, tag_pattern))
    if kind == "github":
        return _checked(_github(payload, current, current_image, tag_pattern, github_event))
    if kind == "dockerhub":
        return _checked(_dockerhub(payload, current, current_image, tag_pattern))
    if kind == "registry":
        return _checked(_registry(payload, current, current_image, tag_pattern))
    raise PayloadError(f"unknown webhook kind {kind!r}")


def _generic(payload: dict[str, Any], current: Ref, current_image: str,
             tag_pattern: str | None) -> Decision:
    if "image" in payload:
        image = _str(payload["image"], "image")
        assert image is not None
        if len(image) > MAX_IMAGE or not IMAGE_REF.match(image):
            raise PayloadError("image is not a valid image reference (name:tag or name@sha256:digest)")
        if (why := _filtered(split_reference(image).tag, tag_pattern)) is not None:
            return Decision(None, why)
        if image == current_image:
            return Decision(None, f"{image} is already running")
        return Decision(image, f"image {current_image} → {image}")
    if "tag" in payload:
        tag = _tag(payload["tag"], "tag")
        if tag is None:
            raise PayloadError("tag must be a non-empty string")
        if (why := _filtered(tag, tag_pattern)) is not None:
            return Decision(None, why)
        image = f"{current.name}:{tag}"
        if image == current_image:
            return Decision(None, f"{image} is already running")
        return Decision(image, f"image {current_image} → {image}")
    raise PayloadError('a generic payload is {"image": "<reference>"} or {"tag": "<tag>"}')


def _github(payload: dict[str, Any], current: Ref, current_image: str,
            tag_pattern: str | None, event: str | None) -> Decision:
    if event is None:  # X-GitHub-Event is always sent; guess only from the shape
        event = ("ping" if "zen" in payload else
                 "registry_package" if "registry_package" in payload else
                 "package" if "package" in payload else None)
    if event == "ping":
        return Decision(None, "ping")
    if event not in ("package", "registry_package"):
        return Decision(None, f"GitHub event {event!r} does not deploy anything")
    package = _obj(payload.get(event), event)
    action = payload.get("action")
    if action not in ("published", "updated"):
        return Decision(None, f"package action {action!r} does not deploy anything")
    kinds = {str(package.get(k) or "").lower() for k in ("package_type", "ecosystem")}
    if not kinds & {"container", "docker"}:
        return Decision(None, "not a container package")
    version = _obj(package.get("package_version") or {}, f"{event}.package_version")
    metadata = _obj(version.get("container_metadata") or {}, "container_metadata")
    tag_info = _obj(metadata.get("tag") or {}, "container_metadata.tag")
    tag = _tag(tag_info.get("name"), "container_metadata.tag.name")
    digest = _digest(tag_info.get("digest"))

    url = version.get("package_url")
    if isinstance(url, str) and url:
        pushed = split_reference(url.rstrip(":"))
    else:
        owner = _obj(package.get("owner") or {}, "owner").get("login")
        name = _str(package.get("name"), f"{event}.name")
        pushed = split_reference(f"ghcr.io/{_str(owner, 'owner.login')}/{name}")
    if (pushed.domain, pushed.path) != (current.domain, current.path):
        return Decision(None, f"{pushed.repository} is not this deployment's repository "
                              f"({current.repository})")
    if tag is None:
        return Decision(None, "an untagged package version (nothing to deploy by tag)")
    if (why := _filtered(tag, tag_pattern)) is not None:
        return Decision(None, why)
    return _move(current, current_image, tag, digest)


def _dockerhub(payload: dict[str, Any], current: Ref, current_image: str,
               tag_pattern: str | None) -> Decision:
    push = _obj(payload.get("push_data"), "push_data")
    repository = _obj(payload.get("repository"), "repository")
    tag = _tag(push.get("tag"), "push_data.tag")
    repo_name = _str(repository.get("repo_name"), "repository.repo_name")
    assert repo_name is not None
    pushed = split_reference(repo_name)
    if (pushed.domain, pushed.path) != (current.domain, current.path):
        return Decision(None, f"{pushed.repository} is not this deployment's repository "
                              f"({current.repository})")
    if tag is None:
        return Decision(None, "the push names no tag")
    if (why := _filtered(tag, tag_pattern)) is not None:
        return Decision(None, why)
    return _move(current, current_image, tag, None)


def _registry(payload: dict[str, Any], current: Ref, current_image: str,
              tag_pattern: str | None) -> Decision:
    events = payload.get("events")
    if not isinstance(events, list):
        raise PayloadError("a registry notification is an envelope {\"events\": [...]}")
    first_id: str | None = None
    pushes: list[tuple[str, str | None, str | None]] = []  # (tag, digest, event id)
    other_repos: set[str] = set()
    filtered: list[str] = []
    for i, event in enumerate(events):
        event = _obj(event, f"events[{i}]")
        event_id = event.get("id")
        event_id = event_id if isinstance(event_id, str) and EVENT_ID.fullmatch(event_id) else None
        first_id = first_id or event_id
        if event.get("action") != "push":
            continue
        target = _obj(event.get("target"), f"events[{i}].target")
        media_type = str(target.get("mediaType") or "")
        if media_type and "manifest" not in media_type and "index" not in media_type:
            continue  # a layer (blob) push
        tag = _tag(target.get("tag"), f"events[{i}].target.tag")
        if tag is None:
            continue  # a manifest pushed by digest (e.g. one platform of a multi-arch image)
        repository = _str(target.get("repository"), f"events[{i}].target.repository")
        assert repository is not None
        # The envelope does not say under which name clients reach the registry, so the
        # repository path (not the host) is what must match.
        if split_reference(f"registry.invalid/{repository}").path != current.path:
            other_repos.add(repository)
            continue
        if _filtered(tag, tag_pattern) is not None:
            filtered.append(tag)
            continue
        pushes.append((tag, _digest(target.get("digest")), event_id))
    if pushes:
        tag, digest, event_id = pushes[-1]  # the newest push in the envelope wins
        return _move(current, current_image, tag, digest, event_id or first_id)
    if filtered:
        return Decision(None, f"tag(s) {', '.join(map(repr, filtered[:5]))} do not match "
                              "tag_pattern", event_id=first_id)
    if other_repos:
        return Decision(None, f"no push of this deployment's repository ({current.path}); "
                              f"the notification is about {', '.join(sorted(other_repos)[:5])}",
                        event_id=first_id)
    return Decision(None, "no tagged manifest push in the notification", event_id=first_id)
