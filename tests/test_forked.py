"""bliss.io.forked.Forked: products written in a child process, published by the parent's OutputSet."""
from __future__ import annotations

import os

import pytest

from bliss.io.atomic import OutputSet
from bliss.io.forked import Forked


def test_the_child_writes_and_the_parent_publishes(tmp_path):
    out_dir = tmp_path / "out"
    with OutputSet(out_dir) as out:
        png = out.path("child.txt")
        with Forked(lambda: png.write_text(f"from {os.getpid()}\n")):
            out.path("parent.txt").write_text(f"from {os.getpid()}\n")
    child, parent = (out_dir / "child.txt").read_text(), (out_dir / "parent.txt").read_text()
    assert parent == f"from {os.getpid()}\n"
    assert child.startswith("from ") and child != parent  # written by another process
    assert sorted(p.name for p in out_dir.iterdir()) == ["child.txt", "parent.txt"]


def _fail():
    raise ValueError("no such plot\nsecond line")


def test_a_failing_child_fails_the_set_with_its_one_line_error(tmp_path):
    out_dir = tmp_path / "out"
    with pytest.raises(RuntimeError, match=r"child process failed: ValueError: no such plot$"):
        with OutputSet(out_dir) as out:
            with Forked(_fail):
                out.path("parent.txt").write_text("x\n")
    assert not out_dir.exists()  # nothing published, the folder made for the set removed again


def test_a_failing_parent_still_waits_for_the_child(tmp_path):
    marker = tmp_path / "child-done"

    def slow_child():
        import time

        time.sleep(0.3)
        marker.write_text("done\n")

    with pytest.raises(KeyError):
        with Forked(slow_child):
            raise KeyError("parent failed")
    assert marker.read_text() == "done\n"  # joined before the parent's error went on


def _write(path, text):
    with open(path, "w") as fh:
        fh.write(text)


def _prepare():
    import json  # noqa: F401  (stands in for matplotlib's import)


def test_a_worker_forked_early_runs_the_job_sent_later(tmp_path):
    from bliss.io.forked import Worker

    worker = Worker(_prepare)
    try:
        worker.submit(_write, str(tmp_path / "job.txt"), "sent after the fork\n")
        worker.join()
    finally:
        worker.close()
    assert (tmp_path / "job.txt").read_text() == "sent after the fork\n"


def test_a_worker_given_no_job_is_stopped_and_writes_nothing(tmp_path):
    from bliss.io.forked import Worker

    worker = Worker(_prepare)
    worker.close()
    worker.close()  # twice is harmless
    assert list(tmp_path.iterdir()) == []


def test_a_worker_job_that_fails_raises_in_join(tmp_path):
    from bliss.io.forked import Worker

    worker = Worker(_prepare)
    worker.submit(_write, str(tmp_path / "no-such-folder" / "x.txt"), "x")
    with pytest.raises(RuntimeError, match="child process failed: FileNotFoundError"):
        worker.join()


def test_a_forked_call_returns_its_value_from_another_process():
    from bliss.io.forked import ForkedCall

    call = ForkedCall(lambda: {"pid": os.getpid(), "values": list(range(100_000))})
    got = call.result()
    assert got["pid"] != os.getpid()  # computed in the child
    assert got["values"] == list(range(100_000))  # larger than a pipe's buffer: read while it is written


def test_a_forked_call_that_fails_raises_its_one_line_error():
    from bliss.io.forked import ForkedCall

    with pytest.raises(RuntimeError, match=r"forked computation failed: ValueError: no such plot$"):
        ForkedCall(_fail).result()


def test_a_forked_call_closed_unasked_is_stopped(tmp_path):
    import time

    from bliss.io.forked import ForkedCall

    marker = tmp_path / "late"

    def slow():
        time.sleep(5.0)
        marker.write_text("still ran")

    t0 = time.perf_counter()
    ForkedCall(slow).close()
    assert time.perf_counter() - t0 < 4.0 and not marker.exists()
