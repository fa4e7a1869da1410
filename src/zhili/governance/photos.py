"""Case photos: checked by decoding, re-encoded as JPEG, stripped of metadata.

A phone photo carries EXIF with the GPS position of the reporter's home and
the camera's serial number; none of it may reach the database or another
user. Every upload is therefore decoded with Pillow (the file's name and
declared type are ignored), turned upright from its EXIF orientation, scaled
to at most `MAX_SIDE` pixels and written fresh as a JPEG with no EXIF, XMP or
ICC block. The SHA-256 of what is stored is kept beside it.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from zhili.core.errors import invalid

MAX_PHOTOS = 6
MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2560
JPEG_QUALITY = 85
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP"}
# A small file may claim a huge canvas (a "decompression bomb"): refuse
# anything above 60 megapixels before decoding it.
MAX_PIXELS = 60_000_000


@dataclass(frozen=True)
class PreparedPhoto:
    content: bytes
    sha256: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.content)


def _read(upload, index: int) -> bytes:
    declared = getattr(upload, "size", None)
    if declared is not None and declared > MAX_BYTES:
        raise invalid("photos", _("photo %(n)d is larger than 10 MB") % {"n": index + 1})
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise invalid("photos", _("photo %(n)d is larger than 10 MB") % {"n": index + 1})
    if not data:
        raise invalid("photos", _("photo %(n)d is empty") % {"n": index + 1})
    return data


def photo_prepare(upload, index: int = 0) -> PreparedPhoto:
    """Decode, check and re-encode one upload; 422 `photos` when it is not a usable image."""
    data = _read(upload, index)
    not_image = invalid("photos", _("photo %(n)d is not a JPEG, PNG, WebP or GIF image")
                        % {"n": index + 1})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise not_image
                if probe.width * probe.height > MAX_PIXELS:
                    raise invalid("photos", _("photo %(n)d has too many pixels") % {"n": index + 1})
                probe.verify()  # structure and checksums, without decoding pixels
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # decode fully: a truncated file fails here
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "L"):
                    # Flatten transparency onto white, as a viewer would show it.
                    rgba = image.convert("RGBA")
                    image = Image.new("RGB", rgba.size, (255, 255, 255))
                    image.paste(rgba, mask=rgba.getchannel("A"))
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                out = io.BytesIO()
                # No exif=, icc_profile= or xmp= arguments: nothing but pixels is written.
                image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError, EOFError) as exc:
        raise not_image from exc
    content = out.getvalue()
    return PreparedPhoto(content=content, sha256=hashlib.sha256(content).hexdigest(),
                         width=image.width, height=image.height)


def photos_prepare(uploads) -> list[PreparedPhoto]:
    """Check the count, then each photo; nothing is stored yet."""
    uploads = [u for u in (uploads or []) if u is not None]
    if len(uploads) > MAX_PHOTOS:
        raise invalid("photos", _("at most %(n)d photos") % {"n": MAX_PHOTOS})
    return [photo_prepare(upload, i) for i, upload in enumerate(uploads)]


def photos_store(*, case, event, prepared: list[PreparedPhoto], stored: list, now) -> list:
    """Write the files and their rows. Names of written files are appended to
    `stored`, so the caller can delete them if its transaction rolls back."""
    from zhili.governance.models import CasePhoto

    rows = []
    for photo in prepared:
        row = CasePhoto(case=case, event=event, sha256=photo.sha256, width=photo.width,
                        height=photo.height, size=photo.size, created_at=now)
        row.image.save(f"{case.tracking_no}-{photo.sha256[:12]}.jpg", ContentFile(photo.content),
                       save=False)
        stored.append(row.image.name)
        row.save()
        rows.append(row)
    return rows


def files_discard(names: list[str]) -> None:
    """Delete files written by a transaction that did not commit."""
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # best effort: an orphan file is harmless, a crash here is not
            pass
