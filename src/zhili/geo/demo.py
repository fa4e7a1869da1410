from django.utils.translation import gettext as _

from zhili.geo.models import AreaNode, Level
from zhili.geo.services import city_generate


def seed(*, seed: int, log) -> None:
    if AreaNode.objects.exists():
        log("  " + _("city already loaded"))
        return
    counts = city_generate(preset="small", seed=seed)
    log("  " + _("city generated (preset small): %(counts)s") % {"counts": counts_text(counts)})


def counts_text(counts: dict[str, int]) -> str:
    # "Level: count" reads right in both languages, with no plural to get wrong.
    return ", ".join(f"{Level(level).label}: {n}" for level, n in counts.items())
