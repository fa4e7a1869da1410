"""The map's tiles: the vector base (/geo/base/z/x/y.json) and a local raster archive (/geo/tiles/z/x/y).

Both are the same for every signed-in user and change only with a new
boundary version or a new archive, so they carry an ETag (the base tile's
names the version) and the browser keeps them, revalidating after a while.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from zhili.geo import basemap, tilesfile

BASE_CACHE = "private, max-age=3600"  # then revalidated: the ETag carries the version
TILES_CACHE = "private, max-age=86400"


def _cached(request, body: bytes, etag: str, content_type: str, cache_control: str):
    etag = f'"{etag}"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


@require_GET
@login_required
def base_tile(request, z: int, x: int, y: int):
    try:
        body, tag = basemap.tile_bytes(z, x, y)
    except basemap.TileOutOfRange as exc:
        raise Http404(str(exc)) from None
    return _cached(request, body, f"{tag}-{z}-{x}-{y}", "application/geo+json", BASE_CACHE)


@require_GET
@login_required
def archive_tile(request, z: int, x: int, y: int):
    try:
        archive = tilesfile.archive()
    except tilesfile.TilesFileError:
        archive = None
    if archive is None:
        raise Http404(_("No tiles archive is configured (ZHILI_TILES_FILE)."))
    if not (0 <= z <= 30 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise Http404(_("No such tile."))
    data = archive.get(z, x, y)
    if data is None:
        raise Http404(_("No such tile."))
    etag = hashlib.blake2b(data, digest_size=12).hexdigest()
    return _cached(request, data, etag, archive.info.content_type, TILES_CACHE)
