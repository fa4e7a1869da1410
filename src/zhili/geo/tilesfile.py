"""Raster tiles from a local archive (ZHILI_TILES_FILE): MBTiles or PMTiles, served by Zhili.

MBTiles is SQLite (`tiles(zoom_level, tile_column, tile_row, tile_data)`,
rows counted from the south: TMS, so y is flipped); it is opened read-only,
one connection per thread. PMTiles v3 is read with the `pmtiles` package over
a memory map. Which one a file is comes from its first bytes, not its name.

Raster tiles only (png, jpg, webp): vector tiles (pbf/MVT) would need a
renderer Leaflet does not have, so such an archive fails `zhili check`.
An archive is opened once per process and reopened when the file changes
(size or mtime), so replacing it needs no restart.
"""

from __future__ import annotations

import gzip
import mmap
import os
import sqlite3
import threading
from dataclasses import dataclass

from django.conf import settings

SQLITE_MAGIC = b"SQLite format 3\x00"
PMTILES_MAGIC = b"PMTiles"
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                 "webp": "image/webp"}
VECTOR_FORMATS = {"pbf", "mvt"}


class TilesFileError(Exception):
    """The archive is missing, unreadable or of a kind Zhili does not serve."""


@dataclass(frozen=True)
class ArchiveInfo:
    kind: str  # "mbtiles" or "pmtiles"
    format: str  # png, jpg, webp
    min_zoom: int
    max_zoom: int
    attribution: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def _check_format(fmt: str, path: str) -> str:
    fmt = (fmt or "").lower()
    if fmt in VECTOR_FORMATS:
        raise TilesFileError(f"{path}: vector tiles ({fmt}) are not served; "
                             "use a raster archive (png, jpg, webp)")
    if fmt not in CONTENT_TYPES:
        raise TilesFileError(f"{path}: tile format {fmt or 'unknown'!r} is not png, jpg or webp")
    return "jpg" if fmt == "jpeg" else fmt


class MBTiles:
    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        try:
            meta = dict(self._con().execute("SELECT name, value FROM metadata").fetchall())
            zooms = self._con().execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        except sqlite3.DatabaseError as exc:
            raise TilesFileError(f"{path}: not a readable MBTiles file ({exc})") from None
        fmt = _check_format(meta.get("format", ""), path)
        low = int(meta.get("minzoom", zooms[0] if zooms[0] is not None else 0))
        high = int(meta.get("maxzoom", zooms[1] if zooms[1] is not None else 0))
        self.info = ArchiveInfo("mbtiles", fmt, low, high, meta.get("attribution", ""))

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def get(self, z: int, x: int, y: int) -> bytes | None:
        row = self._con().execute(
            "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
            (z, x, (1 << z) - 1 - y)).fetchone()
        return bytes(row[0]) if row else None


class PMTiles:
    def __init__(self, path: str):
        from pmtiles.reader import Reader
        from pmtiles.tile import Compression, TileType

        self.path = path
        with open(path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._reader = Reader(lambda offset, length: self._map[offset : offset + length])
        try:
            header = self._reader.header()
            meta = self._reader.metadata()
        except Exception as exc:  # the package raises several kinds on a bad file
            raise TilesFileError(f"{path}: not a readable PMTiles v3 file ({exc})") from None
        names = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp",
                 TileType.MVT: "pbf"}
        fmt = _check_format(names.get(header["tile_type"], str(header["tile_type"])), path)
        self._gzip = header["tile_compression"] == Compression.GZIP
        self.info = ArchiveInfo("pmtiles", fmt, header["min_zoom"], header["max_zoom"],
                                str(meta.get("attribution", "")) if isinstance(meta, dict) else "")

    def get(self, z: int, x: int, y: int) -> bytes | None:
        data = self._reader.get(z, x, y)
        if data and self._gzip:
            data = gzip.decompress(data)
        return bytes(data) if data else None


def open_archive(path: str) -> MBTiles | PMTiles:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise TilesFileError(f"{path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return MBTiles(path)
    if head.startswith(PMTILES_MAGIC):
        return PMTiles(path)
    raise TilesFileError(f"{path}: neither MBTiles (SQLite) nor PMTiles")


_lock = threading.Lock()
_open: dict = {}


def archive() -> MBTiles | PMTiles | None:
    """This process's open archive of ZHILI_TILES_FILE (None when unset); reopened on change."""
    path = getattr(settings, "ZHILI_TILES_FILE", "")
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise TilesFileError(f"{path}: {exc.strerror}") from None
    key = (path, stat.st_size, stat.st_mtime_ns)
    with _lock:
        if _open.get("key") != key:
            _open["archive"], _open["key"] = open_archive(path), key
        return _open["archive"]
