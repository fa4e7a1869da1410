from django.utils.translation import gettext as _

from zhili.geo.models import AreaNode, Level, Road
from zhili.geo.services import city_generate, roads_generate


def seed(*, seed: int, log) -> None:
    if AreaNode.objects.exists():
        log("  " + _("city already loaded"))
    else:
        counts = city_generate(preset="small", seed=seed)
        log("  " + _("city generated (preset small): %(counts)s") % {"counts": counts_text(counts)})
    if not Road.objects.exists():
        n = roads_generate(seed=seed)
        log("  " + _("synthetic roads for the base map: %(n)d") % {"n": n})


def counts_text(counts: dict[str, int]) -> str:
    # "Level: count" reads right in both languages, with no plural to get wrong.
    return ", ".join(f"{Level(level).label}: {n}" for level, n in counts.items())
