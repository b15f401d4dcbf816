"""SQLite writers kept waiting are served in the order they came (the writer lane in front of
its one write lock), and one that waits too long gives up its place: under load no request
waits many times longer than the others. Without the lane, SQLite's busy handler serves them
in no particular order."""

from __future__ import annotations

import threading
import time

from ledgerdrop.core.sqlite.base import WriterLane


def test_writers_kept_waiting_are_served_in_the_order_they_came() -> None:
    lane = WriterLane()
    served: list[str] = []

    def write(name: str) -> None:
        assert lane.acquire(timeout=10)
        served.append(name)
        lane.release()

    assert lane.acquire(timeout=1)  # a long write in progress
    waiting = [threading.Thread(target=write, args=(f"writer {n}",)) for n in range(1, 6)]
    for thread in waiting:
        thread.start()
        time.sleep(0.1)  # each is waiting before the next comes
    lane.release()
    for thread in waiting:
        thread.join(10)

    assert served == [f"writer {n}" for n in range(1, 6)]


def test_a_writer_that_waited_too_long_gives_up_its_place_to_the_next() -> None:
    lane = WriterLane()
    assert lane.acquire(timeout=1)
    impatient = threading.Thread(target=lambda: lane.acquire(timeout=0.2))
    patient_served = threading.Event()

    def patient() -> None:
        if lane.acquire(timeout=10):
            patient_served.set()
            lane.release()

    impatient.start()
    time.sleep(0.05)
    threading.Thread(target=patient).start()
    impatient.join(5)
    lane.release()

    assert patient_served.wait(5)
    assert len(lane) == 0
