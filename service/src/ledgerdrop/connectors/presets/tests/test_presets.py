"""Each package's preset: where each kind of document goes (a table per preset), and the
templates a connection may not have."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerdrop.accounts import services as accounts_services
from ledgerdrop.accounts.models import Dossier
from ledgerdrop.connectors.presets import naming, routes, services
from ledgerdrop.connectors.presets.catalogue import PRESETS, Mechanism
from ledgerdrop.core.errors import ServiceError
from ledgerdrop.delivery import services as delivery_services
from ledgerdrop.documents.models import Document
from tests import builders

pytestmark = pytest.mark.django_db

Kind = Document.Kind
DAY = dt.date(2026, 11, 2)
KINDS = (
    Kind.SALES_INVOICE,
    Kind.CREDIT_NOTE,
    Kind.PURCHASE_INVOICE,
    Kind.PURCHASE_SLIP,
    Kind.INCOMING,
)


@pytest.fixture
def dossier() -> Dossier:
    client = builders.company("Dupont & Fils: Bois/Métal")
    client.vat_number = "BE0477472701"
    client.save(update_fields=["vat_number"])
    return accounts_services.link_accountant(client, builders.firm(), by=None)


def _paths(dossier: Dossier, app: str, **fields: str) -> dict[str, list[str]]:
    route = routes.build(
        dossier, PRESETS[app], dossier_code=fields.get("dossier_code", "DUPONT"),
        path_template=fields.get("path_template"), file_template=fields.get("file_template"),
        direction_words=None, payload=fields.get("payload"),
    )  # fmt: skip
    return {
        kind: [
            path
            for _part, path in route.paths(
                route.facts(kind=kind, number="F/2026 01", issue_date=DAY, id=7)
            )
        ]
        for kind in (
            Kind.SALES_INVOICE,
            Kind.CREDIT_NOTE,
            Kind.PURCHASE_INVOICE,
            Kind.PURCHASE_SLIP,
            Kind.INCOMING,
        )
    }


FOLDER_TABLE = {
    "expert-m": {
        Kind.SALES_INVOICE: "0477472701/Verkopen/20261102_sales_invoice_F-2026-01_7.xml",
        Kind.CREDIT_NOTE: "0477472701/Verkopen/20261102_credit_note_F-2026-01_7.xml",
        Kind.PURCHASE_INVOICE: "0477472701/Aankopen/20261102_purchase_invoice_F-2026-01_7.xml",
        Kind.PURCHASE_SLIP: "0477472701/Aankopen/20261102_purchase_slip_F-2026-01_7.xml",
        Kind.INCOMING: "0477472701/Aankopen/20261102_incoming_F-2026-01_7.xml",
    },
    "adsolut": {
        Kind.SALES_INVOICE: "BE0477472701/Verkoop/20261102_sales_invoice_F-2026-01_7.xml",
        Kind.CREDIT_NOTE: "BE0477472701/Verkoop/20261102_credit_note_F-2026-01_7.xml",
        Kind.PURCHASE_INVOICE: "BE0477472701/Aankoop/20261102_purchase_invoice_F-2026-01_7.xml",
        Kind.PURCHASE_SLIP: "BE0477472701/Aankoop/20261102_purchase_slip_F-2026-01_7.xml",
        Kind.INCOMING: "BE0477472701/Aankoop/20261102_incoming_F-2026-01_7.xml",
    },
    "venice": {
        Kind.SALES_INVOICE: "0477472701/ventes/20261102_sales_invoice_F-2026-01_7.xml",
        Kind.CREDIT_NOTE: "0477472701/ventes/20261102_credit_note_F-2026-01_7.xml",
        Kind.PURCHASE_INVOICE: "0477472701/achats/20261102_purchase_invoice_F-2026-01_7.xml",
        Kind.PURCHASE_SLIP: "0477472701/achats/20261102_purchase_slip_F-2026-01_7.xml",
        Kind.INCOMING: "0477472701/achats/20261102_incoming_F-2026-01_7.xml",
    },
    "topaccount": {
        Kind.SALES_INVOICE: "DUPONT/ventes/20261102_sales_invoice_F-2026-01_7.xml",
        Kind.CREDIT_NOTE: "DUPONT/ventes/20261102_credit_note_F-2026-01_7.xml",
        Kind.PURCHASE_INVOICE: "DUPONT/achats/20261102_purchase_invoice_F-2026-01_7.xml",
        Kind.PURCHASE_SLIP: "DUPONT/achats/20261102_purchase_slip_F-2026-01_7.xml",
        Kind.INCOMING: "DUPONT/achats/20261102_incoming_F-2026-01_7.xml",
    },
    "winbooks": {
        Kind.SALES_INVOICE: "DUPONT/Factures de vente/20261102_Factures de vente_F-2026-01_7.xml",
        Kind.CREDIT_NOTE: "DUPONT/Notes de credit/20261102_Notes de credit_F-2026-01_7.xml",
        Kind.PURCHASE_INVOICE: "DUPONT/Factures d'achat/20261102_Factures d'achat_F-2026-01_7.xml",
        Kind.PURCHASE_SLIP: "DUPONT/Bordereaux d'achat/20261102_Bordereaux d'achat_F-2026-01_7.xml",
        Kind.INCOMING: "DUPONT/Factures d'achat/20261102_Factures d'achat_F-2026-01_7.xml",
    },
    "folder": {
        Kind.SALES_INVOICE: "DUPONT/ventes/20261102_sales_invoice_F-2026-01_7.xml",
        Kind.CREDIT_NOTE: "DUPONT/ventes/20261102_credit_note_F-2026-01_7.xml",
        Kind.PURCHASE_INVOICE: "DUPONT/achats/20261102_purchase_invoice_F-2026-01_7.xml",
        Kind.PURCHASE_SLIP: "DUPONT/achats/20261102_purchase_slip_F-2026-01_7.xml",
        Kind.INCOMING: "DUPONT/achats/20261102_incoming_F-2026-01_7.xml",
    },
}

EMAIL_TABLE = {
    "admisol": ["sales", "sales", "purchases", "purchases", "purchases"],
    "winauditor": ["sales", "sales", "purchases", "purchases", "purchases"],
    "yuki": ["inbox", "inbox", "inbox", "inbox", "inbox"],
    "clearfacts": ["sales", "sales", "purchases", "purchases", "purchases"],
    "winbooks-web": [
        "sales_invoice", "credit_note", "purchase_invoice", "purchase_slip", "purchase_invoice",
    ],
    "email": ["sales", "sales", "purchases", "purchases", "purchases"],
}  # fmt: skip


def test_every_package_of_the_issue_has_a_preset() -> None:
    assert set(PRESETS) == set(FOLDER_TABLE) | set(EMAIL_TABLE)
    assert {p.slug for p in PRESETS.values() if p.mechanism is Mechanism.FOLDER} == set(
        FOLDER_TABLE
    )


@pytest.mark.parametrize("app", sorted(FOLDER_TABLE))
def test_folder_preset_places_each_kind(dossier: Dossier, app: str) -> None:
    assert _paths(dossier, app) == {kind: [path] for kind, path in FOLDER_TABLE[app].items()}


@pytest.mark.parametrize("app", sorted(EMAIL_TABLE))
def test_email_preset_routes_each_kind_to_an_address(app: str) -> None:
    routes = [PRESETS[app].route(kind) for kind in KINDS]
    assert routes == EMAIL_TABLE[app]
    assert set(routes) <= set(PRESETS[app].address_keys)


def test_every_variable_and_a_windows_safe_company_name(dossier: Dossier) -> None:
    paths = _paths(
        dossier, "folder",
        path_template="{company_name} {enterprise_number}/{direction}-{year}-{month}",
        file_template="{vat_number}_{dossier_code}_{kind}_{date}_{number}_{id}",
    )  # fmt: skip
    company = dossier.company.name.replace(":", "-").replace("/", "-")
    assert paths[Kind.SALES_INVOICE] == [
        f"{company} 0477472701/ventes-2026-11/"
        "BE0477472701_DUPONT_sales_invoice_20261102_F-2026-01_7.xml"
    ]


def test_ubl_and_pdf_side_by_side_share_a_base_name_and_pdf_alone(dossier: Dossier) -> None:
    both = _paths(dossier, "folder", payload="ubl_and_pdf")[Kind.SALES_INVOICE]
    assert both == [
        "DUPONT/ventes/20261102_sales_invoice_F-2026-01_7.xml",
        "DUPONT/ventes/20261102_sales_invoice_F-2026-01_7.pdf",
    ]
    assert _paths(dossier, "folder", payload="pdf")[Kind.SALES_INVOICE] == [
        "DUPONT/ventes/20261102_sales_invoice_F-2026-01_7.pdf"
    ]


@pytest.mark.parametrize(
    ("path_template", "file_template", "code"),
    [
        ("../{dossier_code}/{direction}", "{id}", "escapes_main_folder"),
        ("/{dossier_code}/{direction}", "{id}", "escapes_main_folder"),
        ("C:/{dossier_code}/{direction}", "{id}", "escapes_main_folder"),
        ("{dossier_code}//{direction}", "{id}", "escapes_main_folder"),
        ("{dossier_code}/{direction}", "../{id}", "escapes_main_folder"),
        ("{dossier_code}/CON", "{id}", "windows_name"),
        ("{dossier_code}/{direction}", "NUL", "not_unique"),
        ("{dossier_code}/achats?", "{id}", "windows_name"),
        ("{dossier_code}/{direction}.", "{id}", "windows_name"),
        ("{dossier_code}/{direction}", "{date}_{number}", "not_unique"),
        ("achats/{direction}", "{id}", "not_unique"),
        ("{dossier_code}", "{id}", "wrong_depth"),
        ("{dossier_code}/{direction}/{year}", "{id}", "wrong_depth"),
        ("{dossier_code}/{direction}", "{id.__class__}", "unknown_variable"),
        ("{dossier_code}/{direction}", "{id!r}", "unknown_variable"),
        ("{dossier_code}/{directory}", "{id}", "unknown_variable"),
        ("{dossier_code}/{direction}", "{id", "invalid_template"),
        ("{dossier_code}/{direction}", "{id}" + "x" * 250, "too_long"),
    ],
)
def test_templates_that_are_refused(
    dossier: Dossier, path_template: str, file_template: str, code: str
) -> None:
    with pytest.raises(ServiceError) as refused:
        _paths(dossier, "folder", path_template=path_template, file_template=file_template)
    assert refused.value.code == code


def test_a_path_too_long_for_windows_on_the_main_folder_is_refused(dossier: Dossier) -> None:
    main = "C:\\" + "\\".join(["Comptabilite partagee"] * 9)
    with pytest.raises(ServiceError) as refused:
        routes.preview(
            dossier, "folder", main_folder=main, dossier_code="DUPONT",
            file_template="{date}_{kind}_{number}_{company_name}_{id}",
        )  # fmt: skip
    assert refused.value.code == "too_long"


def test_preview_shows_full_paths_of_four_samples_on_the_main_folder(dossier: Dossier) -> None:
    samples = routes.preview(
        dossier, "expert-m", main_folder="C:\\Ledgerdrop", dossier_code="", payload="ubl_and_pdf"
    )
    assert [sample.kind for sample in samples] == [
        "sales_invoice", "credit_note", "purchase_invoice", "purchase_slip",
    ]  # fmt: skip
    assert samples[0].paths[0].startswith("C:\\Ledgerdrop\\0477472701\\Verkopen\\")
    assert samples[0].paths[1].endswith(".pdf")
    assert samples[3].paths[0].startswith("C:\\Ledgerdrop\\0477472701\\Aankopen\\")


def test_windows_safe_names() -> None:
    assert naming.windows_safe('A<b>:c"d/e\\f|g?h*i. ') == "A-b-c-d-e-f-g-h-i"
    assert naming.enterprise_number("BE 0477.472.701") == "0477472701"


def test_a_connection_whose_paths_windows_cannot_open_on_its_device_is_not_saved(
    dossier: Dossier,
) -> None:
    device = delivery_services.register_device(dossier.firm, name="Serveur").device
    device.root_folder = "C:\\" + "\\".join(["Comptabilite partagee"] * 9)
    device.save()
    long_names = "{date}_{kind}_{number}_{company_name}_{id}"

    with pytest.raises(ServiceError) as refused:
        services.connect(
            dossier, "folder", by=None, device=device, dossier_code="DUPONT",
            file_template=long_names,
        )  # fmt: skip
    connection = services.connect(dossier, "folder", by=None, dossier_code="DUPONT")
    with pytest.raises(ServiceError) as refused_on_change:
        services.update_connection(connection, by=None, file_template=long_names)

    assert refused.value.code == refused_on_change.value.code == "too_long"
    connection.refresh_from_db()
    assert connection.file_template != long_names
