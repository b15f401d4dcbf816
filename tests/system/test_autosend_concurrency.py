"""Two `ledgerdrop autosend` processes at once (two workers, or a worker and an operator) must
queue each document once: the accountant's BOB must never import an invoice twice."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerdrop.connectors.bob_demat import services
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents.models import Document
from tests import builders
from tests.conftest import database_url

pytestmark = pytest.mark.system


def test_two_concurrent_autosend_runs_queue_each_document_once(
    transactional_db: None, tmp_path: Path
) -> None:
    firm = builders.firm()
    device = delivery_services.register_device(firm, name="Serveur partagé").device
    services.set_default_device(firm, device, by=None)
    documents = []
    for index in range(3):
        company = builders.company()
        _, connection = builders.connected_dossier(firm, company, code=f"DOS{index}")
        services.update_connection(
            connection, auto_transfer=True, start_date=dt.date(2026, 11, 1), by=None
        )
        documents += [builders.document(company) for _ in range(15)]
    Document.objects.update(status=Document.Status.SENT)
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGERDROP_DATA_DIR": str(tmp_path)}

    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "ledgerdrop.config.cli", "autosend", "--date", "2026-11-29"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    queued = sorted(Delivery.objects.values_list("source_id", flat=True))
    assert queued == sorted(document.pk for document in documents)
    assert sum(int(output.split()[0]) for output in outputs) == len(documents)
