"""What an engine's pull stream says, summed up: pure, no I/O.

``docker pull`` answers with a JSON message per line: one per layer state change
(``Pulling fs layer``, ``Downloading`` with byte counts, ``Pull complete``, ``Already
exists``), a few without a layer (``Digest: ...``, ``Status: ...``), and, when it fails
after it began, ``{"error": ..., "errorDetail": {"message": ...}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_DONE = ("Pull complete", "Already exists")
# Pull failures worth retrying: the registry is down, busy or cut off, not refusing us.
_TRANSIENT = (
    "connection refused",
    "connection reset",
    "i/o timeout",
    "timeout",
    "too many requests",
    "toomanyrequests",
    "503 service unavailable",
    "502 bad gateway",
    "unexpected eof",
)


def pull_failure_is_temporary(message: str) -> bool:
    """Whether trying the pull again later may help. Refusals (no credentials, wrong
    ones, no such repository or tag, a name that does not resolve) are for good."""
    return any(marker in message.lower() for marker in _TRANSIENT)
# States after which a layer's bytes are all downloaded.
_DOWNLOADED = ("Download complete", "Verifying Checksum", "Extracting", *_DONE)


@dataclass
class _Layer:
    status: str = ""
    current: int = 0
    total: int = 0


@dataclass
class PullProgress:
    layers: dict[str, _Layer] = field(default_factory=dict)
    digest: str | None = None
    error: str | None = None

    def feed(self, message: dict) -> None:
        if not isinstance(message, dict):
            return
        if message.get("error") or message.get("errorDetail"):
            detail = message.get("errorDetail") or {}
            self.error = str(detail.get("message") or message.get("error") or "pull failed")
            return
        status = str(message.get("status") or "")
        if status.startswith("Digest: "):
            self.digest = status.removeprefix("Digest: ").strip()
            return
        layer_id = message.get("id")
        if not layer_id or status.startswith("Pulling from"):
            return
        layer = self.layers.setdefault(str(layer_id), _Layer())
        layer.status = status
        detail = message.get("progressDetail") or {}
        if status == "Downloading":
            layer.current = int(detail.get("current") or 0)
            layer.total = int(detail.get("total") or layer.total)
        elif status in _DOWNLOADED and layer.total:
            layer.current = layer.total

    @property
    def done_layers(self) -> int:
        return sum(1 for layer in self.layers.values() if layer.status in _DONE)

    def summary(self) -> str:
        """``2/3 layers done, 1.2 of 3.4 MB downloaded``."""
        text = f"{self.done_layers}/{len(self.layers)} layers done"
        total = sum(layer.total for layer in self.layers.values())
        if total:
            current = sum(min(layer.current, layer.total) for layer in self.layers.values())
            text += f", {current / 1e6:.1f} of {total / 1e6:.1f} MB downloaded"
        return text


PROGRESS_STEP = 15  # reports at one interval before it doubles
PROGRESS_MAX_S = 60.0


def progress_interval(reported: int, every_s: float) -> float:
    """Seconds until the next progress report, after ``reported`` of them. A pull that
    takes long reports ever more rarely (doubling every 15 reports, at most once a
    minute): an hour's pull writes about 120 events, not 1,800."""
    return min(PROGRESS_MAX_S, every_s * 2 ** (reported // PROGRESS_STEP))
