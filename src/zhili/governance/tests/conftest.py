"""Governance test helpers: categories seeded, photos in a temporary media root,
and `report()` to create a case through the real service."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def categories(db):
    from zhili.governance.catalogue import category_seed

    category_seed()


@pytest.fixture
def now():
    """A fixed clock, well after anything the demo seeded (no accidental duplicates)."""
    return timezone.now().replace(microsecond=0) + timedelta(days=400)


def jpeg_bytes(size=(64, 48), *, exif_gps: bool = False, color=(200, 30, 30)) -> bytes:
    from PIL import Image

    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x0110] = "Model X"  # Model
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = "N", (29.0, 33.0, 20.0)
        gps[3], gps[4] = "E", (106.0, 30.0, 45.0)
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def upload(name="photo.jpg", content: bytes | None = None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, content if content is not None else jpeg_bytes(),
                              content_type=content_type)


@pytest.fixture
def report(categories, grid, resident, now):
    """report(**overrides) -> case, reported through the service on `grid`."""
    from zhili.governance.services import case_report

    counter = {"n": 0}

    def make(*, actor=resident, at=None, where=None, category="road-damage", **kw):
        counter["n"] += 1
        node = where or grid
        kw.setdefault("lon", node.centre_lon)
        kw.setdefault("lat", node.centre_lat)
        kw.setdefault("description", f"test case {counter['n']}")
        if category == "road-damage":
            kw.setdefault("attributes", {"size": "small"})
        if category == "power-line-sagging":
            kw.setdefault("attributes", {"hazard": "low"})
        # Each report 8 days after the last: beyond every duplicate window.
        case, _created = case_report(actor=actor, category=category,
                                     now=at or now + timedelta(days=8 * counter["n"]), **kw)
        return case

    return make
