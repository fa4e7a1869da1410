from django.conf import settings

from zhili.core.navigation import menu_for


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "nav_items": menu_for(user),
        "tile_url": settings.ZHILI_TILE_URL,
        "LANGUAGES": settings.LANGUAGES,
    }
