"""The speed behind every time estimate: measured on an idle machine and kept; on a busy one, the kept
measurement is used and the estimate says so, since other programs' work would price every run too long."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ditto_desk.core.models.loading import load_model
from ditto_desk.core.planning.machine import SPEED_FILE, OtherProgramsLoad, this_machine


@contextmanager
def other_programs_using_every_core() -> Iterator[None]:
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.5)  # started and spinning
        yield
    finally:
        for process in busy:
            process.kill()
            process.wait()


def test_the_load_of_other_programs_is_told_apart_from_this_ones() -> None:
    load = OtherProgramsLoad()
    end = time.monotonic() + 0.5
    while time.monotonic() < end:  # this process's own work is not another program's
        pass
    assert load.cores() < 0.5
    with other_programs_using_every_core():
        load = OtherProgramsLoad()
        time.sleep(0.5)
        assert load.cores() > 0.5 * (os.cpu_count() or 1)


def test_a_busy_machine_is_priced_at_its_idle_speed_measured_earlier(tiny_settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DITTO_DESK_CACHE", str(tmp_path))
    loaded = load_model(tiny_settings)

    (tmp_path / SPEED_FILE).write_text("not json")  # an unreadable file is measured over
    idle = this_machine(loaded)
    assert idle.speed is not None and idle.speed_note == ""
    assert "forward_flops" in (tmp_path / SPEED_FILE).read_text()

    with other_programs_using_every_core():
        busy = this_machine(loaded)
        assert busy.speed == idle.speed  # the kept one
        assert "when it is idle" in busy.speed_note

        (tmp_path / SPEED_FILE).unlink()
        first = this_machine(loaded)  # nothing kept: the busy measurement, said as such
    assert first.speed is not None and "may take less time" in first.speed_note
    assert not (tmp_path / SPEED_FILE).exists()  # a busy measurement is never kept
