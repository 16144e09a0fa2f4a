"""core.singleton.PerProcess: one object per process, a new one in a forked child or for a new key."""
from __future__ import annotations

import os
import signal

import pytest

from core.singleton import PerProcess


def test_one_object_per_process_until_reset():
    built = []
    holder = PerProcess(lambda: built.append(object()) or built[-1])
    assert holder.get() is holder.get() is built[0]
    holder.reset()
    assert holder.get() is built[1]


def test_a_new_key_builds_anew():
    url = ["redis://a"]
    holder = PerProcess(lambda: {"url": url[0]}, key=lambda: url[0])
    first = holder.get()
    url[0] = "redis://b"
    assert holder.get() is not first and holder.get()["url"] == "redis://b"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_builds_its_own_even_with_the_lock_held_at_fork():
    holder = PerProcess(lambda: (os.getpid(), object()))
    parent = holder.get()
    read_end, write_end = os.pipe()
    with holder._lock:  # another thread of the parent would be inside get() at the moment of fork
        pid = os.fork()
        if pid == 0:
            signal.alarm(5)  # a deadlocked child dies, and the parent reads no verdict
            try:
                child = holder.get()
                verdict = b"ok" if child is not parent and child[0] == os.getpid() else b"shared"
            except BaseException:
                verdict = b"error"
            os.write(write_end, verdict)
            os._exit(0)
    os.close(write_end)
    verdict = os.read(read_end, 16)
    os.waitpid(pid, 0)
    assert verdict == b"ok"
    assert holder.get() is parent
