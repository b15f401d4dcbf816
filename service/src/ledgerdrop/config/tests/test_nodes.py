"""What a node of several needs from its environment: the secret key from the environment,
never made on its own disk, and a schema brought up to date by `ledgerdrop migrate` before
any node starts (on the embedded default, `serve` still migrates its own SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection


def _ledgerdrop(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("LEDGERDROP_", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "ledgerdrop.config.cli", *args],
        env={**environment, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_node_on_postgresql_and_object_storage_refuses_to_start_without_a_secret_key(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "node"

    started = _ledgerdrop(
        "serve",
        "--no-worker",
        LEDGERDROP_DATA_DIR=str(data_dir),
        # Never reached: the refusal comes before any connection.
        DATABASE_URL="postgres://ledgerdrop@127.0.0.1:1/ledgerdrop",
        LEDGERDROP_S3_BUCKET="ledgerdrop",
    )

    assert started.returncode == 2
    assert "LEDGERDROP_SECRET_KEY is not set" in started.stderr
    assert "Traceback" not in started.stderr
    assert not (data_dir / "secret_key").exists()


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new PostgreSQL database with no schema, beside the test database, dropped after."""
    settings = connection.settings_dict
    name = f"ld_fresh_{uuid.uuid4().hex[:10]}"
    server = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = server["user"] + (f":{server['password']}" if server["password"] else "")
    try:
        yield f"postgres://{auth}@{server['host']}:{server['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.postgresql
@pytest.mark.django_db
def test_on_postgresql_nodes_start_only_once_ledgerdrop_migrate_has_run(
    empty_database: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": empty_database, "LEDGERDROP_DATA_DIR": str(tmp_path / "node")}

    refused = _ledgerdrop("serve", "--no-worker", **env)
    worker_refused = _ledgerdrop("worker", **env)
    migrated = _ledgerdrop("migrate", **env)
    check = _ledgerdrop("manage", "migrate", "--check", **env)

    assert refused.returncode == 2
    assert "run `ledgerdrop migrate` once, then start the nodes" in refused.stderr
    assert worker_refused.returncode == 2
    assert migrated.returncode == 0, migrated.stderr
    assert check.returncode == 0, check.stdout + check.stderr
