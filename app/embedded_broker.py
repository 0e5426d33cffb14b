"""The embedded default's broker: kombu's filesystem transport, with whole messages only.

kombu's own ``_put`` creates the message file in the queue folder and then writes it,
so a consumer listing the folder in between moves an empty file away and fails to parse
it: the message is lost and Celery's consumer stops with "Unrecoverable error:
JSONDecodeError" (the worker exits; ``moorage dev`` is left without one). Seen in
bench/converge --embedded at kombu 5.7 with the default 1 s polling; the shorter
polling interval the embedded mode uses (MOORAGE_BROKER_POLL_INTERVAL_S) would make it
more likely. Here a message is written under a name no consumer takes (``.part``), then
renamed into place, which is atomic on one filesystem: a consumer sees all of a message
or none of it.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        # The name kombu gives it (consumers take the oldest first, by name).
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # not "<queue>.msg": _get, _size and _purge skip it
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            try:
                os.remove(partial)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
