from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from device_server import DeviceServer

from ledgerdrop_agent.client import Unauthorized
from ledgerdrop_agent.journal import Journal, State
from ledgerdrop_agent.runner import Runner
from ledgerdrop_protocol import routes

INVOICE = b"<Invoice>" + b"x" * 5000 + b"</Invoice>"


def test_every_offered_file_is_placed_and_acknowledged_in_a_few_batches(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    for n in range(20):
        server.add(f"ACME01/achats/2024-03-{n + 1:02} F{n}.xml", INVOICE + bytes([n]))

    assert runner.run_once()

    assert sorted(a["id"] for batch in server.ack_batches for a in batch) == list(range(1, 21))
    assert len(server.ack_batches) <= 2 * runner.options.workers
    assert {d.state for d in server.deliveries.values()} == {"delivered"}
    for delivery in server.deliveries.values():
        assert (root / delivery.relative_path).read_bytes() == delivery.content
    assert list((root / ".ledgerdrop-staging").iterdir()) == []


def test_a_backlog_travels_in_a_few_bundles_not_one_request_per_file(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    for n in range(200):
        server.add(f"ACME01/achats/F{n}.xml", INVOICE + str(n).encode())

    assert runner.run_once()

    assert server.paths("GET").count(routes.OFFERS.url()) == 2  # the backlog, then nothing
    assert not [p for p in server.paths("GET") if p.endswith("/content")]
    bundles = server.paths("POST").count(routes.CONTENTS.url())
    assert bundles <= 200 / 8  # files travel by the dozen
    assert len(server.ack_batches) <= bundles  # and are acknowledged so too
    for delivery in server.deliveries.values():
        assert (root / delivery.relative_path).read_bytes() == delivery.content


def test_a_backlog_bigger_than_a_page_is_asked_for_page_by_page_while_it_is_placed(
    server: DeviceServer, make_runner: Callable[..., Runner], root: Path
) -> None:
    for n in range(25):
        server.add(f"ACME01/achats/F{n:02}.xml", INVOICE + bytes([n]))
    runner = make_runner(limit=10)

    assert runner.run_once()

    # Each next page starts after the last id of the page being placed; only then, with
    # everything acknowledged, a poll as before finds nothing more.
    assert [query.get("after") for query in server.offer_queries] == [None, "10", "20", None]
    assert sorted(a["id"] for batch in server.ack_batches for a in batch) == list(range(1, 26))
    for delivery in server.deliveries.values():
        assert (root / delivery.relative_path).read_bytes() == delivery.content


def test_a_name_that_comes_again_in_a_later_page_keeps_the_plain_name_for_the_older(
    server: DeviceServer, make_runner: Callable[..., Runner], root: Path
) -> None:
    # The oldest is big, so fetched on its own after its batch's bundle: the later pages'
    # small files would be placed before it if nothing held them back.
    big = INVOICE * 300
    for n in range(25):
        name = "F-again.xml" if n in {3, 13, 23} else f"F{n:02}.xml"
        server.add(f"ACME01/achats/{name}", (big if n == 3 else INVOICE) + bytes([n]))
    runner = make_runner(limit=10)

    assert runner.run_once()

    folder = root / "ACME01/achats"
    assert (folder / "F-again.xml").read_bytes() == big + bytes([3])
    assert (folder / "F-again (2).xml").read_bytes() == INVOICE + bytes([13])
    assert (folder / "F-again (3).xml").read_bytes() == INVOICE + bytes([23])
    assert len(list(folder.iterdir())) == 25


def test_a_server_that_ignores_the_page_cursor_still_gets_each_file_once(
    server: DeviceServer, make_runner: Callable[..., Runner], root: Path
) -> None:
    server.pages = False
    for n in range(25):
        server.add(f"ACME01/achats/F{n:02}.xml", INVOICE + bytes([n]))
    runner = make_runner(limit=10)

    assert runner.run_once()

    assert sorted(a["id"] for batch in server.ack_batches for a in batch) == list(range(1, 26))
    assert {d.state for d in server.deliveries.values()} == {"delivered"}
    placed = [p for p in root.rglob("*.xml") if ".ledgerdrop-staging" not in p.parts]
    assert len(placed) == 25  # no file twice under a suffixed name
    # Once the repeated page showed it, no next page is asked for again.
    assert [query.get("after") for query in server.offer_queries].count("10") == 1


def test_a_file_corrupted_in_its_bundle_is_fetched_again_on_its_own(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    server.add("ACME01/achats/f.xml", INVOICE)
    server.corrupt_bundles = 1

    assert runner.run_once()

    assert (root / "ACME01/achats/f.xml").read_bytes() == INVOICE
    assert [p for p in server.paths("GET") if p.endswith("/content")] == [
        routes.CONTENT.url(delivery_id=1)
    ]


def test_bundles_cut_on_every_try_keep_what_arrived_and_fetch_the_rest_one_at_a_time(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    for n in range(10):
        server.add(f"ACME01/achats/F{n}.xml", INVOICE + bytes([n]))
    server.cut_bundles = 100  # a proxy that never lets a long answer through

    assert runner.run_once()

    # The files complete before the cut are kept, the others fetched alone.
    assert 0 < len([p for p in server.paths("GET") if p.endswith("/content")]) < 10
    for delivery in server.deliveries.values():
        assert (root / delivery.relative_path).read_bytes() == delivery.content
        assert delivery.state == "delivered"


def test_a_server_without_bundles_gets_one_request_per_file(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    server.bundles = False
    for n in range(5):
        server.add(f"ACME01/achats/F{n}.xml", INVOICE + bytes([n]))

    assert runner.run_once()

    # Each download thread may try once before the first answer says there are no bundles.
    assert len([p for p in server.paths("POST") if p.endswith("/contents")]) <= 5
    assert len([p for p in server.paths("GET") if p.endswith("/content")]) == 5
    assert {d.state for d in server.deliveries.values()} == {"delivered"}


def test_listed_folders_are_created_even_without_documents(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    server.folders = ["ACME01/achats", "ACME01/ventes"]

    assert runner.run_once()

    assert (root / "ACME01/achats").is_dir()
    assert (root / "ACME01/ventes").is_dir()


def test_a_conflicting_name_is_acknowledged_with_its_suffix(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    (root / "ACME01/achats").mkdir(parents=True)
    (root / "ACME01/achats/f.xml").write_bytes(b"already here, different")
    server.add("ACME01/achats/f.xml", INVOICE)

    assert runner.run_once()

    assert server.deliveries[1].placed_path == "ACME01/achats/f (2).xml"
    assert (root / "ACME01/achats/f.xml").read_bytes() == b"already here, different"


def test_two_deliveries_for_one_name_keep_the_plain_name_for_the_older(
    server: DeviceServer, runner: Runner
) -> None:
    server.add("ACME01/ventes/f.xml", INVOICE)
    server.add("ACME01/ventes/f.xml", INVOICE + b"corrected")

    assert runner.run_once()

    assert server.deliveries[1].placed_path == "ACME01/ventes/f.xml"
    assert server.deliveries[2].placed_path == "ACME01/ventes/f (2).xml"


def test_an_unsafe_path_is_reported_failed_and_nothing_is_written(
    server: DeviceServer, runner: Runner, root: Path, tmp_path: Path
) -> None:
    server.add("../../escaped.xml", INVOICE)
    server.add("ACME01/achats/ok.xml", INVOICE)

    assert not runner.run_once()

    assert server.fail_reports[1]["reason"] == "unsafe_path"
    assert server.deliveries[2].state == "delivered"
    assert not list(tmp_path.rglob("escaped.xml"))
    assert server.paths("GET").count(routes.CONTENT.url(delivery_id=1)) == 0


def test_a_corrupted_download_is_fetched_again(server: DeviceServer, runner: Runner) -> None:
    server.add("ACME01/achats/f.xml", INVOICE).corrupt_downloads = 2

    assert runner.run_once()

    assert server.deliveries[1].state == "delivered"


def test_three_corrupted_downloads_fail_with_checksum_mismatch_and_leave_nothing(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    server.add("ACME01/achats/f.xml", INVOICE).corrupt_downloads = 3

    assert not runner.run_once()

    assert server.fail_reports[1]["reason"] == "checksum_mismatch"
    assert not (root / "ACME01/achats/f.xml").exists()
    assert list((root / ".ledgerdrop-staging").iterdir()) == []


def test_a_download_cut_half_way_resumes_with_a_range_request(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    server.add("ACME01/achats/f.xml", INVOICE).cut_downloads = 1

    assert runner.run_once()

    assert (root / "ACME01/achats/f.xml").read_bytes() == INVOICE
    ranges = [h.get("Range") for m, p, h in server.requests if p.endswith("/content")]
    assert ranges == [None, f"bytes={len(INVOICE) // 2}-"]


def test_a_flaky_server_is_retried_without_operator_action(
    server: DeviceServer, runner: Runner
) -> None:
    server.add("ACME01/achats/f.xml", INVOICE)
    server.unavailable = 3

    assert runner.run_once()

    assert server.deliveries[1].state == "delivered"


def test_a_revoked_credential_stops_the_agent(server: DeviceServer, runner: Runner) -> None:
    server.revoked = True

    with pytest.raises(Unauthorized):
        runner.run_once()


def test_placed_but_unacknowledged_files_are_acknowledged_at_start(
    server: DeviceServer, runner: Runner, journal: Journal, root: Path
) -> None:
    delivery = server.add("ACME01/achats/f.xml", INVOICE)
    # A crash after placing and journaling, before the ack reached the server.
    (root / "ACME01/achats").mkdir(parents=True)
    (root / "ACME01/achats/f.xml").write_bytes(INVOICE)
    journal.mark_placed(1, delivery.sha256, delivery.relative_path, delivery.relative_path)

    assert runner.run_once()

    assert server.ack_batches[0] == [
        {"id": 1, "sha256": delivery.sha256, "placed_path": "ACME01/achats/f.xml"}
    ]
    assert routes.CONTENT.url(delivery_id=1) not in server.paths("GET")
    assert journal.get(1).state is State.ACKED  # type: ignore[union-attr]


def test_one_refused_acknowledgement_does_not_hold_back_the_others(
    server: DeviceServer, runner: Runner, journal: Journal
) -> None:
    for n in range(3):
        server.add(f"ACME01/achats/f{n}.xml", INVOICE)
    server.refused_acks = {2}

    runner.run_once()

    assert [d.state for d in server.deliveries.values()] == ["delivered", "queued", "delivered"]
    assert "cancelled" in (journal.get(2).last_error or "")  # type: ignore[union-attr]
    assert journal.summary().placed_not_acked == 0


def test_a_file_placed_before_a_crash_is_not_placed_twice(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    # A crash after the file went into place, before the journal heard of it.
    server.add("ACME01/achats/f.xml", INVOICE)
    (root / "ACME01/achats").mkdir(parents=True)
    (root / "ACME01/achats/f.xml").write_bytes(INVOICE)
    (root / ".ledgerdrop-staging").mkdir()
    (root / ".ledgerdrop-staging/delivery-1.part").write_bytes(INVOICE[:10])

    assert runner.run_once()

    assert [p.name for p in (root / "ACME01/achats").iterdir()] == ["f.xml"]
    assert server.deliveries[1].placed_path == "ACME01/achats/f.xml"
    assert list((root / ".ledgerdrop-staging").iterdir()) == []


def test_a_file_taken_away_by_the_accounting_software_is_not_placed_again(
    server: DeviceServer, runner: Runner, journal: Journal, root: Path
) -> None:
    delivery = server.add("ACME01/achats/f.xml", INVOICE)
    assert runner.run_once()
    (root / "ACME01/achats/f.xml").unlink()  # BOB imported it and moved it away
    delivery.state = "queued"  # the server offers it again (say, the ack got lost)

    assert runner.run_once()

    assert not (root / "ACME01/achats/f.xml").exists()
    assert len(server.ack_batches) == 2
    assert server.paths("POST").count(routes.CONTENTS.url()) == 1  # the first time only
    assert not [p for p in server.paths("GET") if p.endswith("/content")]


def test_a_delivery_id_a_restored_server_gives_to_another_file_is_placed(
    server: DeviceServer, runner: Runner, journal: Journal, root: Path
) -> None:
    server.add("ACME01/achats/f.xml", INVOICE)
    assert runner.run_once()
    # Restored from a backup older than that delivery, the server gives its id to the same
    # invoice sent to another dossier: a file of its own, not the one already placed.
    server.deliveries.clear()
    server.add("ACME02/achats/f.xml", INVOICE)

    assert runner.run_once()

    assert (root / "ACME01/achats/f.xml").read_bytes() == INVOICE
    assert (root / "ACME02/achats/f.xml").read_bytes() == INVOICE
    assert server.deliveries[1].state == "delivered"
    assert journal.get(1).relative_path == "ACME02/achats/f.xml"  # type: ignore[union-attr]


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows such a folder is this machine's")
def test_a_windows_main_folder_on_linux_is_reported_as_folder_missing(
    server: DeviceServer, runner: Runner
) -> None:
    server.root_folder = r"c:\bob-demat"
    server.add("ACME01/achats/f.xml", INVOICE)

    assert not runner.run_once()

    assert server.fail_reports[1]["reason"] == "folder_missing"
    assert "Windows path" in server.fail_reports[1]["message"]


def test_the_root_option_overrides_the_server_setting(
    server: DeviceServer, make_runner: Callable[..., Runner], tmp_path: Path
) -> None:
    server.root_folder = r"c:\bob-demat"
    server.add("ACME01/achats/f.xml", INVOICE)
    (tmp_path / "here").mkdir()

    assert make_runner(root=tmp_path / "here").run_once()

    assert (tmp_path / "here/ACME01/achats/f.xml").read_bytes() == INVOICE


def test_a_main_folder_that_cannot_be_made_is_retried_not_failed(
    server: DeviceServer, runner: Runner, root: Path, journal: Journal
) -> None:
    server.root_folder = str(root / "unplugged" / "bob-demat")
    server.add("ACME01/achats/f.xml", INVOICE)

    assert not runner.run_once()

    assert server.fail_reports == {}
    assert server.deliveries[1].state == "queued"
    assert "does not exist" in (journal.summary().last_error or "")
    (root / "unplugged").mkdir()  # the drive is plugged in: the main folder is made there
    assert runner.run_once()
    assert server.deliveries[1].state == "delivered"


def test_a_lasting_local_problem_is_finally_reported(
    server: DeviceServer, make_runner: Callable[..., Runner], root: Path
) -> None:
    server.root_folder = str(root / "unplugged" / "bob-demat")
    server.add("ACME01/achats/f.xml", INVOICE)

    assert not make_runner(give_up_after=timedelta(0)).run_once()

    assert server.fail_reports[1]["reason"] == "folder_missing"


def test_the_loop_survives_the_server_going_away(
    server: DeviceServer, make_runner: Callable[..., Runner], root: Path
) -> None:
    runner = make_runner(wait=0)
    server.unavailable = 40  # several rounds of client retries fail in a row
    server.add("ACME01/achats/f.xml", INVOICE)
    stop = threading.Event()
    loop = threading.Thread(target=runner.run_forever, args=(stop,))
    loop.start()
    try:
        for _ in range(500):
            if server.deliveries[1].state == "delivered":
                break
            stop.wait(0.01)
    finally:
        stop.set()
        loop.join(timeout=10)

    assert server.deliveries[1].state == "delivered"
    assert (root / "ACME01/achats/f.xml").read_bytes() == INVOICE
