from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "ledgerdrop.documents"
    label = "documents"
