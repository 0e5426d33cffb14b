"""Engine API errors classified by status code, as a real dockerd (20.10, 28) answers them."""

from __future__ import annotations

import pytest

from app.dockerhost.errors import (
    ContainerGone,
    PermanentEngineError,
    TemporaryEngineError,
    classify_api_error,
)

# (status, message as the engine words it, container_op, kind)
CASES = [
    (404, "No such container: 1f2e", True, ContainerGone),
    (404, "No such image: nosuch/img:1", False, PermanentEngineError),
    (404, "network moorage-net not found", False, PermanentEngineError),
    (409, 'Conflict. The container name "/web.0.ab" is already in use', False, TemporaryEngineError),
    (409, "removal of container 1f2e is already in progress", True, TemporaryEngineError),
    (400, 'OCI runtime create failed: exec: "/nonexistent": stat /nonexistent: no such file',
     True, PermanentEngineError),
    (400, "invalid reference format: repository name must be lowercase", False,
     PermanentEngineError),
    (400, "Minimum memory limit allowed is 6MB", False, PermanentEngineError),
    (500, "driver failed programming external connectivity on endpoint p2: Bind for "
          "127.0.0.1:18999 failed: port is already allocated", True, PermanentEngineError),
    (500, "OCI runtime create failed: executable file not found in $PATH", True,
     PermanentEngineError),
    # A 5xx whose words merely contain "not found" or "invalid" is the engine's trouble.
    (500, "failed to create task: context deadline exceeded: layer not found", True,
     TemporaryEngineError),
    (500, "invalid argument returned by containerd: connection reset", False,
     TemporaryEngineError),
    (503, "the engine is shutting down", False, TemporaryEngineError),
    (None, "connection aborted", False, TemporaryEngineError),
]


@pytest.mark.parametrize(("status", "message", "container_op", "kind"), CASES)
def test_classified_by_status(status, message, container_op, kind) -> None:
    assert classify_api_error(status, message, container_op=container_op) is kind


def test_a_vanished_container_is_temporary_not_a_failure() -> None:
    assert issubclass(ContainerGone, TemporaryEngineError)
    assert ContainerGone("gone").temporary
