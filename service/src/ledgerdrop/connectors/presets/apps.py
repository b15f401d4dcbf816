from django.apps import AppConfig


class PresetsConfig(AppConfig):
    name = "ledgerdrop.connectors.presets"
    label = "connector_presets"
    verbose_name = "Accounting package connectors"

    def ready(self) -> None:
        from ledgerdrop.connectors.presets import hooks, tasks

        hooks.register()
        tasks.register_periodic_jobs()
