from zhili.geo.models import AreaNode, Level
from zhili.geo.services import city_generate


def seed(*, seed: int, log) -> None:
    if AreaNode.objects.exists():
        log("  city already loaded")
        return
    counts = city_generate(preset="small", seed=seed)
    # "Level: count" reads right in both languages, with no plural to get wrong.
    log("  city generated (preset small): " + ", ".join(f"{Level(k).label}: {v}" for k, v in counts.items()))
