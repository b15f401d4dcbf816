from django.urls import path

from ledgerdrop.connectors.presets import views
from ledgerdrop.connectors.presets.catalogue import PRESETS

# Each package's page has a name of its own: the firm's menu reverses it with the firm's id.
urlpatterns = [
    path(
        f"firms/<int:firm_id>/connectors/{preset.slug}/",
        views.overview,
        {"app": preset.slug},
        name=f"connector-{preset.slug}",
    )
    for preset in PRESETS.values()
] + [
    path(
        "firms/<int:firm_id>/connectors/<slug:app>/connections/new/",
        views.new_connection,
        name="connector-connect",
    ),
    path(
        "firms/<int:firm_id>/connectors/<slug:app>/connections/<int:connection_id>/",
        views.connection_detail,
        name="connector-connection",
    ),
    path(
        "firms/<int:firm_id>/connectors/<slug:app>/preview/",
        views.preview,
        name="connector-preview",
    ),
    path(
        "firms/<int:firm_id>/connectors/<slug:app>/documents-to-process/",
        views.documents_to_process,
        name="connector-documents",
    ),
    path(
        "firms/<int:firm_id>/connectors/<slug:app>/documents/<int:document_id>/send-again/",
        views.send_again,
        name="connector-send-again",
    ),
]
