"""Host paths on real engines: mounted where an admin allows them, and only there."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.db import session_scope
from app.schemas.deployments import DeploymentSpec
from app.services import deployments as service
from tests.e2e.conftest import Stack, wait_for
from tests.e2e.test_fleet import placement
from tests.support import dockerd

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

# Each replica writes who it runs as into the bound host directory, then serves.
WRITE_AND_SERVE = ["/bin/sh", "-c", "trap 'exit 0' TERM; id -u > /host/$(hostname); "
                   "httpd -f -p 8080 -h /www & wait"]


def test_a_host_path_is_mounted_only_where_an_admin_allows_it(
    fleet: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    web = {"image": dockerd.WEB_V1, "replicas": 2, "command": WRITE_AND_SERVE,
           "volumes": [{"source": str(shared), "target": "/host"}]}
    with fleet.client() as admin:
        made = admin.post("/v1/tokens", json={"name": "deployer", "scopes": ["deploy"]})
        deployer = {"Authorization": f"Bearer {made.json()['token']}"}
        r = admin.put("/v1/deployments/web", json=web, headers=deployer)
        assert r.status_code == 422, r.text  # no host allows it yet

        # h2 alone allows it: both replicas land there, and the path really is mounted.
        r = admin.patch("/v1/hosts/h2", json={"allowed_bind_prefixes": [str(shared)]})
        assert r.status_code == 200, r.text
        r = admin.put("/v1/deployments/web", json=web, headers=deployer)
        assert r.status_code == 201, r.text
        assert fleet.wait_rollout(r.json()["current_rollout"]["id"])["state"] == "succeeded"
        assert placement(fleet, "web") == {"h1": 0, "h2": 2, "h3": 0}
        written = wait_for(lambda: sorted(shared.iterdir()) if len(list(shared.iterdir())) == 2
                           else None, 10, "two replicas writing to the host path")
        assert [p.read_text().strip() for p in written] == ["0", "0"]

        # Narrowed on h2, allowed on h3: the replicas move (replacement first), and the
        # new ones mount it too.
        for host, entries in (("h3", [str(shared)]), ("h2", [])):
            r = admin.patch(f"/v1/hosts/{host}", json={"allowed_bind_prefixes": entries})
            assert r.status_code == 200, r.text
        wait_for(lambda: placement(fleet, "web") == {"h1": 0, "h2": 0, "h3": 2}, 60,
                 "the replicas to move to h3")
        wait_for(lambda: len(list(shared.iterdir())) == 4, 10, "the moved replicas writing")

        # A revision stored before host paths were checked (the old code, which had no
        # check at apply) binds /etc: the workers never create it, and the rollout says why.
        monkeypatch.setattr(service, "check_host_paths", lambda *_args: None)
        with session_scope() as session:
            old = DeploymentSpec.model_validate({"image": dockerd.WEB_V1, "volumes": [
                {"source": "/etc", "target": "/host-etc", "read_only": True}]})
            rollout_id = str(service.apply(session, "legacy", old).rollout.id)

        def waiting() -> str:
            message = admin.get(f"/v1/rollouts/{rollout_id}").json()["message"]
            return message if message.startswith("waiting:") else ""

        message = wait_for(waiting, 30, "the rollout to say why it waits")
        assert message == "waiting: 0/3 hosts match: 3 do not allow bind mount /etc", message
        assert placement(fleet, "legacy") == {"h1": 0, "h2": 0, "h3": 0}
        assert all(not fleet.containers("legacy", all_states=True, engine=e)
                   for e in fleet.hosts.values())  # type: ignore[attr-defined]
