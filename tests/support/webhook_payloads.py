"""Webhook payloads as the providers document them, trimmed: GitHub's
`registry_package`/`package` published events (octokit/webhooks payload examples), the
Docker Hub push payload (docs.docker.com/docker-hub/webhooks) and the Docker Registry v2
notification envelope (distribution's docs/content/about/notifications.md)."""

from __future__ import annotations

import copy
import json
from typing import Any

DIGEST = "sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf"
OTHER_DIGEST = "sha256:" + "a" * 64

# GitHub, registry_package "published" (a container package on ghcr.io). The documented
# example is of an untagged version with a 40-hex "digest"; `tagged()` fills in a tag.
GITHUB_REGISTRY_PACKAGE: dict[str, Any] = {
    "action": "published",
    "registry_package": {
        "id": 10696,
        "name": "hello-world-npm",
        "namespace": "Codertocat/hello-world",
        "ecosystem": "docker",
        "package_type": "npm",
        "html_url": "https://github.com/Codertocat/hello-world/packages/10696",
        "owner": {"login": "Codertocat", "id": 21031067, "type": "User"},
        "package_version": {
            "id": 57755791,
            "version": "sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498",
            "name": "sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498",
            "target_oid": "3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498",
            "container_metadata": {
                "tag": {"name": "", "digest": "sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b"},
                "labels": {"description": "Hello-World in a docker container"},
                "manifest": {"media_type": "application/vnd.docker.distribution.manifest.v2+json"},
            },
            "installation_command": "docker pull ghcr.io/Codertocat/hello-world:",
            "package_url": "ghcr.io/Codertocat/hello-world:",
        },
        "registry": {"name": "GitHub CONTAINER registry", "type": "CONTAINER",
                     "url": "https://CONTAINER.pkg.github.com/Codertocat"},
    },
    "repository": {"id": 185882436, "full_name": "Codertocat/hello-world-npm"},
    "sender": {"login": "Codertocat"},
}
GITHUB_PACKAGE = {
    "action": "published",
    "package": copy.deepcopy(GITHUB_REGISTRY_PACKAGE["registry_package"]),
    "repository": GITHUB_REGISTRY_PACKAGE["repository"],
    "sender": GITHUB_REGISTRY_PACKAGE["sender"],
}
GITHUB_PING = {"zen": "Responsive is better than fast.", "hook_id": 109948940,
               "hook": {"type": "Repository", "id": 109948940, "events": ["package"]}}

DOCKERHUB_PUSH = {
    "callback_url": "https://registry.hub.docker.com/u/svendowideit/testhook/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/",
    "push_data": {"pushed_at": 1417566161, "pusher": "trustedbuilder", "tag": "latest"},
    "repository": {
        "comment_count": 0, "date_created": 1417494799, "description": "",
        "full_description": "Docker Hub based automated build from a GitHub repo",
        "is_official": False, "is_private": True, "is_trusted": True, "name": "testhook",
        "namespace": "svendowideit", "owner": "svendowideit", "repo_name": "svendowideit/testhook",
        "repo_url": "https://registry.hub.docker.com/u/svendowideit/testhook/",
        "star_count": 0, "status": "Active",
    },
}


def registry_event(i: int, media_type: str, digest: str, tag: str | None = None,
                   repository: str = "library/test", action: str = "push") -> dict[str, Any]:
    target = {"mediaType": media_type, "digest": digest, "length": i + 1,
              "repository": repository,
              "url": f"https://example.com/v2/{repository}/manifests/{digest}"}
    if tag is not None:
        target["tag"] = tag
    return {
        "id": f"asdf-asdf-asdf-asdf-{i}", "timestamp": "2006-01-02T15:04:05Z", "action": action,
        "target": target,
        "request": {"id": "asdfasdf", "addr": "client.local", "host": "registrycluster.local",
                    "method": "PUT", "useragent": "test/0.1"},
        "actor": {"name": "test-actor"}, "source": {"addr": "hostname.local:port"},
    }


MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
LAYER = "application/vnd.docker.container.image.rootfs.diff+x-gtar"
# The documented envelope: one manifest push and two layer pushes; with a tag on the
# manifest, as the registry sends for a push by tag.
REGISTRY_ENVELOPE = {"events": [
    registry_event(0, MANIFEST, DIGEST, tag="1.1"),
    registry_event(1, LAYER, "sha256:c3b3692957d439ac1928219a83fac91e7bf96c153725526874673ae1f2023f8d5"),
    registry_event(2, LAYER, "sha256:c3b3692957d439ac1928219a83fac91e7bf96c153725526874673ae1f2023f8d5"),
]}


def raw(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def tagged(payload: dict[str, Any], key: str, tag: str, digest: str | None = DIGEST) -> dict[str, Any]:
    p = copy.deepcopy(payload)
    version = p[key]["package_version"]
    version["container_metadata"]["tag"] = {"name": tag, "digest": digest or ""}
    version["package_url"] = f"ghcr.io/Codertocat/hello-world:{tag}"
    return p
