"""Tiny MBTiles and PMTiles archives built at test time, with distinct PNG tiles."""

from __future__ import annotations

import sqlite3
import struct
import zlib


def png(red: int, green: int = 0, blue: int = 0) -> bytes:
    """A valid 1×1 RGB PNG of one colour (distinct bytes per colour)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = zlib.compress(bytes([0, red, green, blue]))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def mbtiles(path, tiles: dict[tuple[int, int, int], bytes], fmt: str = "png",
            attribution: str = "test tiles") -> str:
    """An MBTiles file; `tiles` keyed by XYZ (z, x, y), stored TMS (y flipped)."""
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE metadata (name text, value text)")
        con.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, "
                    "tile_row integer, tile_data blob)")
        zooms = [z for z, _, _ in tiles] or [0]
        con.executemany("INSERT INTO metadata VALUES (?, ?)", [
            ("name", "test"), ("format", fmt), ("minzoom", str(min(zooms))),
            ("maxzoom", str(max(zooms))), ("attribution", attribution)])
        con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                        [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()])
    con.close()
    return str(path)


def pmtiles(path, tiles: dict[tuple[int, int, int], bytes], attribution: str = "test tiles") -> str:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    with open(path, "wb") as fh:
        writer = Writer(fh)
        for tileid, data in sorted((zxy_to_tileid(*zxy), d) for zxy, d in tiles.items()):
            writer.write_tile(tileid, data)
        writer.finalize({"tile_type": TileType.PNG, "tile_compression": Compression.NONE},
                        {"attribution": attribution})
    return str(path)
