"""Two workers running the package connectors' nightly transfer at once must queue each document
once per connection: a package that imports what lands in its folder (or its mailbox) would
book an invoice twice."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.connectors.presets import services
from ledgerdrop.connectors.presets.models import Message, Shipment
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.delivery.models import Delivery
from ledgerdrop.documents.models import Document
from tests import builders
from tests.conftest import database_url

pytestmark = pytest.mark.system

# What a worker's nightly task does, in a process of its own.
NIGHT = """
import datetime as dt
from ledgerdrop.config.cli import _setup_django
_setup_django()
from ledgerdrop.connectors.presets import services
print(services.run_autosend(on=dt.date(2026, 11, 29)).queued)
"""


def test_two_concurrent_nightly_runs_queue_each_document_once_per_connection(
    transactional_db: None, tmp_path: Path
) -> None:
    firm = builders.firm()
    device = delivery_services.register_device(firm, name="Serveur partagé").device
    services.set_default_device(firm, "topaccount", device, by=None)
    documents = []
    for index in range(3):
        company = builders.company(f"Société {index}")
        dossier = accounts_services.link_accountant(company, firm, by=None)
        for app, fields in (
            ("topaccount", {"dossier_code": f"DOS{index}"}),
            ("yuki", {"addresses": {"inbox": f"dos{index}@yuki.example.be"}}),
        ):
            services.connect(
                dossier, app, auto_transfer=True, start_date=dt.date(2026, 11, 1), by=None,
                **fields,  # type: ignore[arg-type]
            )  # fmt: skip
        documents += [builders.document(company) for _ in range(15)]
    Document.objects.update(status=Document.Status.SENT)
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGERDROP_DATA_DIR": str(tmp_path)}

    runs = [
        subprocess.Popen(
            [sys.executable, "-c", NIGHT],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    expected = sorted(document.pk for document in documents)
    assert sorted(Delivery.objects.values_list("source_id", flat=True)) == expected
    assert Message.objects.count() == len(documents)
    assert sorted(Shipment.objects.filter(part="email").values_list("document", flat=True)) == (
        expected
    )
    assert sum(int(output.split()[-1]) for output in outputs) == 2 * len(documents)
