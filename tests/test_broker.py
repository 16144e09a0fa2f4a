"""The embedded broker never shows a worker a message file before it is whole."""
from __future__ import annotations

import os

from kombu import Connection


def test_a_message_file_appears_under_its_name_only_once_written(tmp_path, monkeypatch):
    seen_before_rename = []
    real_replace = os.replace

    def replace(src, dst):
        # At this point the message is complete, but not yet where a worker looks.
        seen_before_rename.append((sorted(os.listdir(tmp_path)), open(src, "rb").read()))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "store_processed": False}
    with Connection("filesystem://", transport_options=options) as connection:
        assert type(connection.transport).__module__ == "avitogw.broker"
        queue = connection.SimpleQueue("wakeups")
        queue.put({"task": "ring"})
        [(names, body)] = seen_before_rename
        assert names and all(name.endswith(".msg.partial") for name in names) and b"wakeups" in body
        assert queue.get(timeout=1).payload == {"task": "ring"}
        queue.close()
