from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ledgerdrop.accounts"
    label = "accounts"
