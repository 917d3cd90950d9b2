"""Checks that a call releases the GIL: a Python thread keeps ticking while it runs (it could not
if the GIL were held). Shared by the run and sweep tests."""

from __future__ import annotations

import threading
import time
from typing import Callable


def assert_gil_released(work: Callable[[], object], what: str) -> None:
    """Runs `work` while a thread ticks every 2 ms and asserts the ticks went on inside it."""
    ticks: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.002)

    t = threading.Thread(target=tick)
    t.start()
    try:
        start = time.perf_counter()
        work()
        end = time.perf_counter()
    finally:
        stop.set()
        t.join()
    assert end - start > 0.3, f"{what} is too short to tell"
    inside = [x for x in ticks if start + 0.05 < x < end - 0.05]
    # Sleeping 2 ms between ticks: expect hundreds; a held GIL would allow none.
    assert len(inside) > (end - start) * 50, (len(inside), end - start)
