"""Installable and offline: the web app manifest, the service worker, the offline page.

The worker is served from /governance/sw.js, so its scope is /governance/:
the report, patrol, task and case pages. It keeps the static shell (styles,
scripts, Leaflet, icons) and the pages last seen, so they open without a
network; what is submitted offline waits in the page's outbox (IndexedDB).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

SHELL_STATIC = [
    "zhili/zhili.css",
    "htmx/htmx.min.js",
    "leaflet/leaflet.css",
    "leaflet/leaflet.js",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
    "governance/governance.css",
    "governance/offline.js",
    "governance/forms.js",
    "governance/report.js",
    "geo/basemap.js",  # the base map under the report pin (tiles themselves need the network)
    "governance/icon-192.png",
    "governance/icon-512.png",
]


@lru_cache(maxsize=1)
def shell_version() -> str:
    """Changes whenever a shell file or the worker's template changes (new cache)."""
    digest = hashlib.sha256()
    template = Path(__file__).resolve().parent.parent / "templates" / "governance" / "sw.js"
    for path in [template, *(finders.find(name) for name in SHELL_STATIC)]:
        if path and Path(path).exists():
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]


def service_worker(request):
    context = {
        "version": shell_version(),
        "shell": json.dumps([static(name) for name in SHELL_STATIC]
                            + [reverse("governance:offline")]),
        "offline_url": json.dumps(reverse("governance:offline")),
        "scope": json.dumps(reverse("governance:home")),
        "logout_url": json.dumps(reverse("accounts:logout")),
        "static_prefix": json.dumps(settings.STATIC_URL),
    }
    response = render(request, "governance/sw.js", context,
                      content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("governance:home")
    return response


def manifest(request):
    body = {
        "name": _("Zhili grid governance"),
        "short_name": _("Zhili"),
        "description": _("Report problems, follow your cases, handle tasks on the grid."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("governance:home"),
        "scope": reverse("governance:home"),
        "display": "standalone",
        "background_color": "#f5f7fa",
        "theme_color": "#b3261e",
        "icons": [
            {"src": static("governance/icon-192.png"), "sizes": "192x192", "type": "image/png",
             "purpose": "any"},
            {"src": static("governance/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any maskable"},
        ],
        "shortcuts": [
            {"name": _("Report a problem"), "url": reverse("governance:report")},
            {"name": _("My tasks"), "url": reverse("governance:tasks")},
        ],
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False),
                        content_type="application/manifest+json; charset=utf-8")


def offline(request):
    """Shown by the service worker for a page it has not kept; needs no login."""
    return render(request, "governance/offline.html")
