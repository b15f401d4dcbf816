"""The documents benchmark: what one process spends to make one document an accountant can use.

Per document: the PDF (ReportLab), the UBL with the PDF embedded (lxml), and the full
validation (hardened parse, UBL 2.1 XSD, EN 16931 rules, PEPPOL BIS 3.0 rules, Belgian
identifiers) — for a small invoice (3 lines) and a 500-line invoice. Validation alone is
compared with the official pipeline's own figures (../shared/peppol/README.md: 75-90 small
invoices/s per process, 2/s for 500 lines, 230-290 MB per process).

    uv run python bench/documents.py [--peppol-rules PATH] [--seconds S]

Prints a table and writes it, with the raw numbers, into a new folder under bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledgerdrop.documents.ubl import peppol_bis
from ledgerdrop.documents.ubl.build import build_ubl
from ledgerdrop.documents.ubl.model import (
    DocumentKind,
    InvoiceData,
    Line,
    VatCategory,
    ogm_from_number,
)
from ledgerdrop.documents.ubl.pdf import render_pdf
from ledgerdrop.documents.ubl.validate import Validator

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # the sample parties are the tests' (tests/ubl_samples.py)
from tests.ubl_samples import BUYER, SELLER  # noqa: E402

DEFAULT_RULES = peppol_bis.RULES  # the release Ledgerdrop ships
# The official pipeline's figures on this kind of machine (shared README), docs/s per process.
OFFICIAL_VALIDATIONS_PER_SECOND = {"small (3 lines)": (75.0, 90.0), "500 lines": (2.0, 2.0)}

RATES = (Decimal(21), Decimal(12), Decimal(6))


def invoice(lines: int, number: int) -> InvoiceData:
    return InvoiceData(
        kind=DocumentKind.INVOICE,
        number=f"F2026-{number:04d}",
        issue_date=dt.date(2026, 11, 2),
        due_date=dt.date(2026, 12, 2),
        seller=SELLER,
        buyer=BUYER,
        lines=tuple(
            Line(
                f"Article {i + 1} - éclairage scène",
                Decimal(1 + i % 7),
                Decimal(f"{10 + i % 90}.{i % 100:02d}"),
                VatCategory.STANDARD,
                RATES[i % 3],
            )
            for i in range(lines)
        ),
        iban="BE71096123456769",
        payment_reference=ogm_from_number(2026000000 + number),
    )


def timed(step: Callable[[], Any], seconds: float, at_least: int) -> tuple[list[float], Any]:
    """Run `step` repeatedly for about `seconds` (and `at_least` times); per-run CPU seconds
    of this process. CPU time, not wall time: the machine's two cores are shared, and a busy
    neighbour must not make this code look slower than it is."""
    durations: list[float] = []
    result = None
    started = time.perf_counter()
    while len(durations) < at_least or time.perf_counter() - started < seconds:
        begin = time.process_time()
        result = step()
        durations.append(time.process_time() - begin)
    return durations, result


def measure(name: str, lines: int, validator: Validator, seconds: float) -> dict[str, Any]:
    data = invoice(lines, 1)
    pdf_times, pdf = timed(lambda: render_pdf(data), seconds, 3)
    ubl_times, xml = timed(lambda: build_ubl(data, pdf), seconds, 3)
    validation_times, report = timed(lambda: validator.validate(xml), seconds, 3)
    if not report.valid:
        raise SystemExit(f"the {name} invoice is not valid: {report.summary}")
    # The official figures are for documents without an attachment: the same, without the PDF.
    bare = build_ubl(data)
    bare_times, _ = timed(lambda: validator.validate(bare), seconds, 3)
    pdf_ms, ubl_ms, validation_ms = (
        statistics.median(t) * 1000 for t in (pdf_times, ubl_times, validation_times)
    )
    total_ms = pdf_ms + ubl_ms + validation_ms
    low, high = OFFICIAL_VALIDATIONS_PER_SECOND[name]
    return {
        "document": name,
        "ubl_bytes": len(xml),
        "pdf_ms": round(pdf_ms, 2),
        "ubl_ms": round(ubl_ms, 2),
        "validation_ms": round(validation_ms, 2),
        "total_ms": round(total_ms, 2),
        "documents_per_second": round(1000 / total_ms, 1),
        "validations_per_second": round(1000 / validation_ms, 1),
        "validations_per_second_without_pdf": round(1 / statistics.median(bare_times), 1),
        "official_validations_per_second": f"{low:g}-{high:g}" if low != high else f"{low:g}",
        "runs": {"pdf": len(pdf_times), "ubl": len(ubl_times), "validation": len(validation_times)},
    }


def table(rows: list[dict[str, Any]], compile_s: float, max_rss_mb: float) -> str:
    head = (
        "| document | UBL size | PDF ms | UBL ms | validation ms | total ms | documents/s |"
        " validations/s (ours) | same without the PDF | official pipeline |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| {r['document']} | {r['ubl_bytes'] / 1024:.0f} KiB | {r['pdf_ms']} | {r['ubl_ms']} |"
        f" {r['validation_ms']} | {r['total_ms']} | {r['documents_per_second']} |"
        f" {r['validations_per_second']} | {r['validations_per_second_without_pdf']} |"
        f" {r['official_validations_per_second']} |\n"
        for r in rows
    )
    tail = (
        "\nms are CPU milliseconds of one process; per second = per busy core."
        f" {platform.python_implementation()} {platform.python_version()}:"
        f" rules compiled once in {compile_s:.1f} s; peak memory {max_rss_mb:.0f} MB"
        " (official pipeline: 230-290 MB per process).\n"
    )
    return head + body + tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peppol-rules", type=Path, default=DEFAULT_RULES)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measured step")
    args = parser.parse_args()
    if not args.peppol_rules.is_file():
        raise SystemExit(f"No PEPPOL rules at {args.peppol_rules}: pass --peppol-rules PATH.")

    started = time.perf_counter()
    validator = Validator(args.peppol_rules)
    compile_s = time.perf_counter() - started
    rows = [
        measure("small (3 lines)", 3, validator, args.seconds),
        measure("500 lines", 500, validator, args.seconds),
    ]
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = table(rows, compile_s, max_rss_mb)
    print(text)

    folder = BENCH / "results" / f"documents-{dt.datetime.now():%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True)
    (folder / "results.md").write_text(text)
    (folder / "results.json").write_text(
        json.dumps({"rows": rows, "compile_seconds": compile_s, "max_rss_mb": max_rss_mb}, indent=2)
    )
    print(f"Written to {folder}")


if __name__ == "__main__":
    main()
