"""Evidence files: photos re-encoded without metadata, PDFs checked by their header.

As with case photos, a phone photo's EXIF (GPS, serial numbers) must not be
kept: every image is decoded with Pillow and written fresh as a JPEG.
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

MAX_FILES = 6
MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2560
MAX_PIXELS = 60_000_000


@dataclass(frozen=True)
class PreparedFile:
    content: bytes
    content_type: str
    name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _image(data: bytes, n: int) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise invalid("evidence", _("file %(n)d has too many pixels") % {"n": n})
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image).convert("RGB")
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                out = io.BytesIO()
                image.save(out, "JPEG", quality=85, optimize=True)  # no exif=: nothing but pixels
                return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError, EOFError) as exc:
        raise invalid("evidence", _("file %(n)d is not a PDF or an image") % {"n": n}) from exc


def evidence_prepare(uploads) -> list[PreparedFile]:
    uploads = [u for u in (uploads or []) if u is not None]
    if len(uploads) > MAX_FILES:
        raise invalid("evidence", _("at most %(n)d files") % {"n": MAX_FILES})
    prepared = []
    for i, upload in enumerate(uploads, start=1):
        if hasattr(upload, "seek"):
            upload.seek(0)
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise invalid("evidence", _("file %(n)d is larger than 10 MB") % {"n": i})
        if not data:
            raise invalid("evidence", _("file %(n)d is empty") % {"n": i})
        base = (getattr(upload, "name", "") or f"evidence-{i}").rsplit("/", 1)[-1][:80]
        if data.startswith(b"%PDF-"):
            prepared.append(PreparedFile(data, "application/pdf", base))
        else:
            stem = base.rsplit(".", 1)[0] or f"evidence-{i}"
            prepared.append(PreparedFile(_image(data, i), "image/jpeg", stem + ".jpg"))
    return prepared


def evidence_store(*, problem, event, prepared: list[PreparedFile], stored: list, now) -> list:
    """Write files and rows; written names go to `stored` so a rollback can delete them."""
    from zhili.supervision.models import ProblemEvidence

    rows = []
    for item in prepared:
        row = ProblemEvidence(problem=problem, event=event, name=item.name,
                              content_type=item.content_type, sha256=item.sha256,
                              size=len(item.content), created_at=now)
        suffix = ".pdf" if item.content_type == "application/pdf" else ".jpg"
        row.file.save(f"{problem.number}-{item.sha256[:12]}{suffix}", ContentFile(item.content),
                      save=False)
        stored.append(row.file.name)
        row.save()
        rows.append(row)
    return rows


def files_discard(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # an orphan file is harmless, a crash here is not
            pass
