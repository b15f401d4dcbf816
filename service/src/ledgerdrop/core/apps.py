from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ledgerdrop.core"
    label = "core"
