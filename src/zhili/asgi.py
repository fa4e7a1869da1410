import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
# WhiteNoise streams static files through a sync iterator; under ASGI Django
# buffers it and warns. The files are small and served rarely (browser cache).
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
django_application = get_asgi_application()

from django.urls import reverse  # noqa: E402

from zhili.cockpit.live import RAW_SEND  # noqa: E402  (needs the apps loaded)
from zhili.core.checks import refuse_unsafe_settings  # noqa: E402

refuse_unsafe_settings()

# From the URLconf, so the stream's route is named in one place.
STREAM_PATH = reverse("cockpit:stream")


async def application(scope, receive, send):
    """Django, except that the live stream's request carries the server's own `send`:
    Django still authenticates it, checks its scope and replays (cockpit.views.stream),
    then the process's hub writes the stream through that `send` directly."""
    if scope["type"] != "http" or scope["path"] != STREAM_PATH:
        return await django_application(scope, receive, send)
    token = RAW_SEND.set(send)
    try:
        return await django_application(scope, receive, send)
    finally:
        RAW_SEND.reset(token)
