from django.apps import AppConfig


class BobDematConfig(AppConfig):
    name = "ledgerdrop.connectors.bob_demat"
    label = "bob_demat"
    verbose_name = "Sage BOB Demat"

    def ready(self) -> None:
        from ledgerdrop.connectors.bob_demat import hooks, tasks

        hooks.register()
        tasks.register_periodic_jobs()
