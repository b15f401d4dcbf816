from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "ledgerdrop.delivery"
    label = "delivery"

    def ready(self) -> None:
        from ledgerdrop.accounts.signals import dossier_unlinked
        from ledgerdrop.delivery import services

        dossier_unlinked.connect(services.cancel_on_unlink, dispatch_uid="delivery.cancel")
