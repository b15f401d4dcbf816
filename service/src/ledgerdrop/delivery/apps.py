from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "ledgerdrop.delivery"
    label = "delivery"
