"""The demo's drainage network: generated for the demo district (渝中区, 500103)
around its waterlogging risk point, labelled synthetic, attached through the
service (so the engine checks it like any upload). No run is made here: the
demo's operators start one from the model's page."""

from __future__ import annotations

DEMO_DISTRICT = "500103"
NAME = "渝中区演示排水管网 (synthetic)"
SPAN_DEG = 0.009  # about 1 km either side of the centre


def seed(*, seed: int, log) -> None:
    from zhili.flood.models import DrainageModel
    from zhili.flood.network import generate_inp
    from zhili.flood.services import drainage_model_add
    from zhili.geo.selectors import node_by_code

    if DrainageModel.objects.filter(name=NAME).exists():
        log("  flood demo already seeded")
        return
    district = node_by_code(DEMO_DISTRICT)
    if district is None:
        log("  no demo district: flood demo not seeded")
        return
    lon, lat = _centre(district)
    bbox = (lon - SPAN_DEG, lat - SPAN_DEG, lon + SPAN_DEG, lat + SPAN_DEG)
    text = generate_inp(bbox=bbox, junctions=40, seed=seed,
                        title=f"{district.name} demo drainage network")
    model = drainage_model_add(actor=None, area=district, name=NAME, inp_text=text,
                               source_name="generated", synthetic=True)
    log(f"  drainage model of {model.junctions} junctions in {district.name} (synthetic)")


def _centre(district) -> tuple[float, float]:
    """The demo's urban-waterlogging risk point if there is one, else the district's centre."""
    from zhili.flood.selectors import risk_points_of

    points = risk_points_of(area_path=district.path, categories=["urban-waterlogging"])
    if points:
        return points[0].lon, points[0].lat
    return district.centre_lon, district.centre_lat
