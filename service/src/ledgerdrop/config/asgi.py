import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
django_application = get_asgi_application()

from ledgerdrop.delivery.longpoll import LongPollGate  # noqa: E402  (needs Django set up)

application = LongPollGate(django_application)
