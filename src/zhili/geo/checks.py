"""Start-up checks of the map settings: a tiles archive that cannot be served stops `zhili check`."""

from django.conf import settings
from django.core.checks import Error, register

from zhili.geo import coords, tilesfile


@register()
def tiles_settings(app_configs, **kwargs):
    problems = []
    if getattr(settings, "ZHILI_TILES_FILE", ""):
        try:
            tilesfile.open_archive(settings.ZHILI_TILES_FILE)
        except tilesfile.TilesFileError as exc:
            problems.append(Error(f"ZHILI_TILES_FILE: {exc}",
                                  hint="Point it at a raster MBTiles or PMTiles archive, or unset it.",
                                  id="zhili.E201"))
    if settings.ZHILI_TILE_CRS not in coords.CRS_CHOICES:
        problems.append(Error(f"ZHILI_TILE_CRS is {settings.ZHILI_TILE_CRS!r}.",
                              hint="Use wgs84 (Tianditu, OSM) or gcj02 (AMap, Tencent).",
                              id="zhili.E202"))
    return problems
