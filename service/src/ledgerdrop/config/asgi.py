import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerdrop.config.settings")
django_application = get_asgi_application()

from ledgerdrop.core.admission import Admission  # noqa: E402  (needs Django set up)
from ledgerdrop.delivery.gate import DeviceGate  # noqa: E402
from ledgerdrop.delivery.longpoll import LongPollGate  # noqa: E402

# Waiting downloaders are held by the gate without a thread, and their bundles and acks are
# answered on the gate's own threads; what reaches Django is admitted into a bounded number of
# request threads (503 when none frees up in time).
application = LongPollGate(DeviceGate(Admission(django_application)))
