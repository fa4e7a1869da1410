from zhili.geo.models import AreaNode
from zhili.geo.services import city_generate


def seed(*, seed: int, log) -> None:
    if AreaNode.objects.exists():
        log("  city already loaded")
        return
    counts = city_generate(preset="small", seed=seed)
    log("  city generated (preset small): " + ", ".join(f"{v} {k}" for k, v in counts.items()))
