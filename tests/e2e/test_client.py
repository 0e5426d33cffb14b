"""The generated client (clients/python/moorage_client) against a live Moorage: real API,
worker and beat processes, Postgres, Redis and dockerd. Every call goes through the
client's functions, so a schema change that breaks them fails here."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))

from moorage_client import AuthenticatedClient  # noqa: E402
from moorage_client.api.deployments import (  # noqa: E402
    apply_deployment,
    delete_deployment,
    get_deployment,
    list_events,
    list_replicas,
    list_revisions,
    rollback_deployment,
)
from moorage_client.api.hosts import get_host, register_host  # noqa: E402
from moorage_client.api.rollouts import get_rollout  # noqa: E402
from moorage_client.api.tokens import create_token, list_tokens  # noqa: E402
from moorage_client.models import (  # noqa: E402
    DeploymentRead,
    DeploymentSpec,
    HostCreate,
    HostRead,
    Problem,
    RollbackRequest,
    RolloutRead,
    TokenCreate,
    TokenCreated,
    TokenCreateScopesItem,
)

from tests.conftest import BOOTSTRAP_TOKEN  # noqa: E402

pytestmark = [pytest.mark.docker, pytest.mark.e2e]
TERMINAL = {"succeeded", "failed", "rolled_back", "superseded"}


def wait_rollout(client: AuthenticatedClient, rollout_id, timeout: float = 90) -> RolloutRead:
    deadline = time.monotonic() + timeout
    while True:
        rollout = get_rollout.sync(rollout_id, client=client, wait=10)
        assert isinstance(rollout, RolloutRead), rollout
        if rollout.state.value in TERMINAL or time.monotonic() > deadline:
            return rollout


def test_generated_client_drives_a_deployment(stack) -> None:
    admin = AuthenticatedClient(base_url=stack.url, token=BOOTSTRAP_TOKEN, timeout=30,
                                raise_on_unexpected_status=True)
    made = create_token.sync(client=admin, body=TokenCreate(
        name="e2e-client", scopes=[TokenCreateScopesItem.ADMIN]))
    assert isinstance(made, TokenCreated) and made.token, made
    api = AuthenticatedClient(base_url=stack.url, token=made.token, timeout=30,
                              raise_on_unexpected_status=True)
    tokens = list_tokens.sync(client=api)
    assert "e2e-client" in [t.name for t in tokens.items]

    # The fixture registered engine `e2e`; registering the name again is a 409 problem.
    host = get_host.sync("e2e", client=api)
    assert isinstance(host, HostRead) and host.name == "e2e", host
    taken = register_host.sync(client=api, body=HostCreate(name="e2e", url=stack.engine.url))
    assert isinstance(taken, Problem) and taken.status == 409, taken

    spec = DeploymentSpec.from_dict({"image": "moorage-test/web:v1", "replicas": 2})
    created = apply_deployment.sync("client-web", client=api, body=spec)
    assert isinstance(created, DeploymentRead) and created.revision == 1, created
    assert created.current_rollout is not None
    first = wait_rollout(api, created.current_rollout.id)
    assert first.state.value == "succeeded", first

    replicas = list_replicas.sync("client-web", client=api)
    assert len(replicas.items) == 2
    assert {r.state.value for r in replicas.items} == {"running"}, replicas
    assert {r.host for r in replicas.items} == {"e2e"}
    events = list_events.sync("client-web", client=api)
    assert events.items and all(e.reason for e in events.items), events

    v2 = DeploymentSpec.from_dict({"image": "moorage-test/web:v2", "replicas": 2})
    updated = apply_deployment.sync("client-web", client=api, body=v2)
    assert isinstance(updated, DeploymentRead) and updated.revision == 2, updated
    assert wait_rollout(api, updated.current_rollout.id).state.value == "succeeded"

    back = rollback_deployment.sync("client-web", client=api, body=RollbackRequest(revision=1))
    assert isinstance(back, RolloutRead) and back.kind.value == "rollback", back
    done = wait_rollout(api, back.id)
    assert done.state.value == "succeeded", done
    current = get_deployment.sync("client-web", client=api)
    assert isinstance(current, DeploymentRead) and current.spec.image.startswith(
        "moorage-test/web:v1"), current
    revisions = list_revisions.sync("client-web", client=api)
    assert sorted(r.number for r in revisions.items) == [1, 2, 3]  # a rollback is a revision

    gone = delete_deployment.sync("client-web", client=api)
    assert isinstance(gone, RolloutRead) and gone.kind.value == "delete", gone
    assert wait_rollout(api, gone.id).state.value == "succeeded"
    deadline = time.monotonic() + 30
    while isinstance(missing := get_deployment.sync("client-web", client=api), DeploymentRead):
        assert time.monotonic() < deadline, missing
        time.sleep(0.2)
    assert isinstance(missing, Problem) and missing.status == 404, missing
    assert stack.containers("client-web", all_states=True) == []
