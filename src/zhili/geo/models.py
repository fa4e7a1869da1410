"""The city's hierarchy: city → district → street → community → grid.

Each node keeps its polygon as WKB (shapely reads it without GEOS in the
database), its bounding box for cheap window queries, and a materialized
path of codes (`500000/500103/500103001/…/`) that scopes everything else.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District / county")
    STREET = "street", _("Street / town")
    COMMUNITY = "community", _("Community / village")
    GRID = "grid", _("Grid")


LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]
LEVEL_DEPTH = {level.value: depth for depth, level in enumerate(LEVEL_ORDER)}


def child_level(level: str) -> str | None:
    depth = LEVEL_DEPTH[level]
    return LEVEL_ORDER[depth + 1].value if depth + 1 < len(LEVEL_ORDER) else None


def parent_level(level: str) -> str | None:
    depth = LEVEL_DEPTH[level]
    return LEVEL_ORDER[depth - 1].value if depth > 0 else None


# Codes: a node's "trimmed" code is the last segment of its path and extends
# its parent's (50 → 500103 → 500103001 → 500103001001 → 500103001001001).
# The stored `code` is the full statistical code: trimmed codes padded with
# zeros to 12 digits; grids keep their 15.
TRIMMED_DIGITS = {"city": 2, "district": 6, "street": 9, "community": 12, "grid": 15}


def full_code(trimmed: str) -> str:
    return trimmed.ljust(12, "0")


def normalise_code(code: str) -> str | None:
    """A full code from a full or trimmed one; None if it cannot be a code."""
    if not code.isascii() or not code.isdigit() or len(code) < 2 or len(code) in (13, 14) \
            or len(code) > 15:
        return None
    return full_code(code) if len(code) <= 12 else code


def trimmed_code(code: str, level: str) -> str:
    return code[: TRIMMED_DIGITS[level]]


class AreaNode(models.Model):
    code = models.CharField(
        max_length=15,
        unique=True,
        help_text=_("12 digits per GB/T 2260 and the statistical division code; grids add 3."),
    )
    level = models.CharField(max_length=10, choices=Level.choices, db_index=True)
    name = models.CharField(max_length=64)  # zh-Hans
    name_en = models.CharField(max_length=128, blank=True)  # English or pinyin
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=96, unique=True)
    geometry = models.BinaryField(help_text="WKB, WGS84 (EPSG:4326)")
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    centre_lon = models.FloatField()
    centre_lat = models.FloatField()
    synthetic = models.BooleanField(
        default=False, help_text=_("Generated boundary, not an official one.")
    )
    # People living in the area, from the census or the grid registry; meaningful on
    # grids (the rescue circles' population coverage sums them). Null: not known.
    population = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("Residents (census or grid registry figure); empty when not known."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["parent", "code"]),
                   # the base map's window query (geo/basemap.py)
                   models.Index(fields=["level", "min_lon"], name="geo_area_level_lon")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]

    @property
    def shape(self):
        import shapely

        return shapely.from_wkb(bytes(self.geometry))

    def ancestor_paths(self) -> list[str]:
        """Paths of this node and every ancestor, root first."""
        parts = self.path.strip("/").split("/")
        return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


class BoundaryVersion(models.Model):
    """One row; bumped by every boundary write so each process rebuilds its index."""

    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"boundary version {self.version}"


class RoadKind(models.TextChoices):
    """OpenStreetMap `highway` classes the base map draws, widest first."""

    PRIMARY = "primary", _("Main road")
    SECONDARY = "secondary", _("Secondary road")
    RESIDENTIAL = "residential", _("Local road")


class Road(models.Model):
    """A named road line of the base map (WGS84 WKB), from OSM-like data or generated.

    Only drawn: no routing here (the emergency app keeps its own network).
    The bounding box makes a tile's window query cheap.
    """

    name = models.CharField(max_length=64, blank=True)
    name_en = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=16, choices=RoadKind.choices)
    geometry = models.BinaryField(help_text="WKB LineString/MultiLineString, WGS84")
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    synthetic = models.BooleanField(default=False)
    source = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "min_lon"], name="geo_road_kind_lon")]

    def __str__(self):
        return self.name or f"{self.kind} {self.pk}"
