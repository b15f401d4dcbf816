from django.urls import path

from ledgerdrop.documents import views

company = "companies/<int:company_id>/"

urlpatterns = [
    path(f"{company}documents/", views.overview, name="company-documents"),
    path(f"{company}documents/new/<slug:kind>/", views.editor, name="document-new"),
    path(f"{company}documents/totals/", views.live_totals, name="document-totals"),
    path(f"{company}documents/<int:document_id>/", views.detail, name="document-detail"),
    path(f"{company}documents/<int:document_id>/edit/", views.editor, name="document-edit"),
    path(
        f"{company}documents/<int:document_id>/<slug:verb>/",
        views.action,
        name="document-action",
    ),
    path(
        f"{company}documents/<int:document_id>/file/<slug:which>/",
        views.download,
        name="document-file",
    ),
    path(f"{company}purchases/", views.purchases, name="company-purchases"),
    path(f"{company}invoicing/", views.invoicing_details, name="company-invoicing"),
    # A dossier of the firm: its company's documents, read-only.
    path(
        "firms/<int:firm_id>/dossiers/<int:dossier_id>/",
        views.dossier_detail,
        name="dossier-detail",
    ),
    # The accountant reads a client's document before sending it to their software.
    path(
        "firms/<int:firm_id>/documents/<int:document_id>/",
        views.firm_document,
        name="firm-document",
    ),
    path(
        "firms/<int:firm_id>/documents/<int:document_id>/file/<slug:which>/",
        views.firm_document_file,
        name="firm-document-file",
    ),
]
