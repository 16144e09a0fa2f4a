"""The embedded broker (kombu's filesystem transport, no Redis) with message files that appear whole.

kombu writes a message straight into its final `<time>_<uuid>.<queue>.msg` file, and a
worker takes any such file without the writer's lock: a worker that lists the folder
between the file's creation and its write reads it empty and stops with "Unrecoverable
error: JSONDecodeError" (seen with beat publishing every 2 s beside the webhook's wake-ups).
Here a message is written under another name first, which workers skip, and renamed into
place in one step (`os.replace`, atomic within a folder). Registered under the `filesystem`
alias, so `CELERY_BROKER_URL=filesystem://` (the default) uses it in every process.
"""
from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL = ".partial"  # a worker takes only names ending in `.<queue>.msg`


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        final = os.path.join(self.data_folder_out, f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg")
        try:
            with open(final + PARTIAL, "wb") as partial:
                partial.write(str_to_bytes(dumps(payload)))
            os.replace(final + PARTIAL, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES["filesystem"] = "avitogw.broker:Transport"
