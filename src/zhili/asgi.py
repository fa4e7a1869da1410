import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
# WhiteNoise streams static files through a sync iterator; under ASGI Django
# buffers it and warns. The files are small and served rarely (browser cache).
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
application = get_asgi_application()

from zhili.core.checks import refuse_unsafe_settings  # noqa: E402  (needs the apps loaded)

refuse_unsafe_settings()
