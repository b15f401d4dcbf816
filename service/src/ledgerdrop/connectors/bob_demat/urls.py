from django.urls import path

from ledgerdrop.connectors.bob_demat import views

urlpatterns = [
    path("firms/<int:firm_id>/sage-demat/", views.overview, name="bob-demat"),
    path(
        "firms/<int:firm_id>/sage-demat/connections/new/",
        views.new_connection,
        name="bob-demat-connect",
    ),
    path(
        "firms/<int:firm_id>/sage-demat/connections/<int:connection_id>/",
        views.connection_detail,
        name="bob-demat-connection",
    ),
    path(
        "firms/<int:firm_id>/sage-demat/connections/<int:connection_id>/auto-transfer/",
        views.toggle_auto_transfer,
        name="bob-demat-auto-transfer",
    ),
    path(
        "firms/<int:firm_id>/sage-demat/documents/<int:document_id>/send-again/",
        views.send_again,
        name="bob-demat-send-again",
    ),
    path(
        "firms/<int:firm_id>/documents-to-process/",
        views.documents_to_process,
        name="documents-to-process",
    ),
    path(
        "companies/<int:company_id>/send-to-accountant/<int:document_id>/",
        views.send_to_accountant,
        name="send-to-accountant",
    ),
]
