from django.apps import AppConfig


class BobDematConfig(AppConfig):
    name = "ledgerdrop.connectors.bob_demat"
    label = "bob_demat"
    verbose_name = "Sage BOB Demat"

    def ready(self) -> None:
        from ledgerdrop.connectors.bob_demat import services, tasks
        from ledgerdrop.delivery import folders

        folders.register(services.folders_for_device)
        tasks.register_periodic_jobs()
