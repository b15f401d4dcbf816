from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    name = "ledgerdrop.core"
    label = "core"

    def ready(self) -> None:
        from ledgerdrop.core.database import add_sqlite_functions, keep_sqlite_private

        connection_created.connect(keep_sqlite_private, dispatch_uid="keep_sqlite_private")
        connection_created.connect(add_sqlite_functions, dispatch_uid="add_sqlite_functions")
