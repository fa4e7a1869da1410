"""A minimal server-sent-events client over asyncio streams (HTTP/1.1, chunked).

For the tests and bench/live.py, which measure the stream itself; no dependency.
"""

from __future__ import annotations

import asyncio
import time


class Stream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int):
        self.reader, self.writer, self.status = reader, writer, status
        self.buffer = ""
        self.comments = 0

    async def _chunk(self) -> str:
        size_line = await self.reader.readline()
        if not size_line:
            raise ConnectionError("stream closed")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            raise ConnectionError("stream ended")
        data = await self.reader.readexactly(size + 2)
        return data[:-2].decode()

    async def event(self, timeout: float = 10.0) -> dict:
        """The next event with data (comments, i.e. heartbeats, are counted and skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            while "\n\n" in self.buffer:
                block, self.buffer = self.buffer.split("\n\n", 1)
                fields: dict = {}
                for line in block.split("\n"):
                    if line.startswith(":"):
                        self.comments += 1
                        continue
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
                if "data" in fields:
                    return fields
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no event in time")
            self.buffer += await asyncio.wait_for(self._chunk(), left)

    async def heartbeat(self, timeout: float = 10.0) -> None:
        """Wait for the next comment line (the stream is alive and sent nothing else)."""
        seen = self.comments
        deadline = time.monotonic() + timeout
        while self.comments == seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no heartbeat in time")
            try:
                found = await self.event(timeout=left)
            except TimeoutError:
                continue
            raise AssertionError(f"an event where only a heartbeat was expected: {found}")

    def close(self) -> None:
        self.writer.close()


async def open_stream(host: str, port: int, *, cookie: str = "", last_event_id=None,
                      path: str = "/cockpit/stream") -> Stream:
    reader, writer = await asyncio.open_connection(host, port)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    if last_event_id is not None:
        lines.append(f"Last-Event-ID: {last_event_id}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return Stream(reader, writer, status)
