"""The delivery benchmark's report (`make bench`, bench/delivery.py): one table per backend, with
the CPU per file of each side, from results shaped as a run writes them. A run itself takes
minutes; this keeps a broken report from waiting for the next one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import delivery


def transfer(files_per_second: float, **cpu_seconds: float) -> dict[str, Any]:
    return {
        "files": 10_000,
        "bytes": 270_000_000,
        "seconds": 10_000 / files_per_second,
        "files_per_second": files_per_second,
        **{f"{side}_cpu_seconds": seconds for side, seconds in cpu_seconds.items()},
        "cpu_ms_per_file": 1000 * (cpu_seconds["server"] + cpu_seconds["agent"]) / 10_000,
    }


MACHINE = {
    "cpu": "AMD EPYC",
    "cores": 2,
    "memory_gib": 23.5,
    "filesystem": "ext4",
    "kernel": "6.18",
    "python": "3.11.7",
    "load_average_at_start": 1.0,
}
PEERS = {
    "rclone": {
        "files_per_second": 5_532,
        "note": "--transfers 8, no fsync",
        "static_server": "nginx",
    },
    "disk": {"files_per_second": 4_576, "note": "8 threads, write+fsync+rename"},
}
# Measured on the embedded default only.
LATENCY_AND_IDLE = {
    "latency": {"sends": 200, "p50_ms": 23.6, "p99_ms": 35.3, "max_ms": 40.0},
    "idle": {
        "connections": 10_000,
        "file_descriptor_limit": 101_000,
        "ledgerdrop": {
            "bytes_per_connection": 9_000,
            "held": 10_000,
            "asked": 10_000,
            "threads_holding": 11,
        },
        "bare_uvicorn": {"bytes_per_connection": 4_600, "held": 10_000},
    },
}
TRANSFERS = {
    "sqlite": transfer(1_963, server=3.13, agent=2.44),
    "postgres-s3": {
        **transfer(250, server=60.0, agent=4.5, object_store=45.0, postgres=1.2),
        "postgres": {"server_version": "15.20", "fsync": "on", "synchronous_commit": "on"},
    },
}


def results(*backends: str) -> dict[str, Any]:
    return {
        "started": "2026-11-30 09:00 UTC",
        "machine": MACHINE,
        "transfers": {backend: TRANSFERS[backend] for backend in backends},
        **PEERS,
        **(LATENCY_AND_IDLE if "sqlite" in backends else {}),
    }


def test_both_backends_get_a_table_with_the_cpu_per_file_of_each_side() -> None:
    report = delivery.table(results("sqlite", "postgres-s3"))

    embedded, scaled_out = report.split("\nOn PostgreSQL, files in an S3-compatible bucket")
    assert "On the embedded default: SQLite" in embedded
    assert "| 1,963 | rclone copy 5,532" in embedded
    assert "| 0.35× | ≥ 1.0× | **no** |" in embedded
    assert "0.557 ms: server 0.313 ms (3.1 CPU s) + downloader 0.244 ms (2.4 CPU s)" in embedded
    assert "p99 35.3 ms" in embedded
    assert "| 1.96× | ≤ 2× | yes |" in embedded
    assert "object store" not in embedded

    assert "PostgreSQL 15.20, fsync on, synchronous_commit on" in scaled_out
    assert "| 250 | rclone copy 5,532" in scaled_out
    assert "6.450 ms: server 6.000 ms (60.0 CPU s) + downloader 0.450 ms" in scaled_out
    assert "| CPU per file, object store (moto, standing in for S3) | 4.500 ms" in scaled_out
    assert "| CPU per file, PostgreSQL (the server's backends) | 0.120 ms" in scaled_out
    # The latency and the idle long-polls are the embedded default's.
    assert "send → file in place" not in scaled_out
    assert "idle long-poll" not in scaled_out


def test_postgresql_alone_gets_its_table_against_the_same_peers() -> None:
    report = delivery.table(results("postgres-s3"))

    assert "embedded default" not in report
    assert (
        "| files/s against the disk's limit | 250 | 8 threads, write+fsync+rename 4,576" in report
    )


def test_an_unknown_backend_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        delivery.main(["--backends", "sqlite,mysql", "--out", str(tmp_path)])

    assert refused.value.code == 2
    assert list(tmp_path.iterdir()) == []
