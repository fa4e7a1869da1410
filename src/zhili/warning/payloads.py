"""What sensors send, parsed strictly: MQTT payloads and HTTP batches share it.

A payload is JSON: one reading `{"t": …, "v": …}`, a list of them, or
`{"readings": [...]}`; `t` is ISO 8601 with an offset or epoch seconds, `v`
a number (`time`/`value` are accepted as the long names). Anything else is
rejected whole with the reason, and counted for the sensor.
"""

from __future__ import annotations

import json

from zhili.warning.ingest import RawReading

MAX_PAYLOAD = 256 * 1024
MAX_READINGS = 10_000


class BadPayload(ValueError):
    pass


def readings_from(sensor: str, payload) -> list[RawReading]:
    if isinstance(payload, bytes | bytearray):
        if len(payload) > MAX_PAYLOAD:
            raise BadPayload(f"payload larger than {MAX_PAYLOAD} bytes")
        try:
            payload = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BadPayload(f"not JSON: {exc}") from None
    if isinstance(payload, dict) and "readings" in payload:
        payload = payload["readings"]
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > MAX_READINGS:
        raise BadPayload(f"more than {MAX_READINGS} readings in one message")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise BadPayload("each reading must be an object with 't' and 'v'")
        t = item.get("t", item.get("time"))
        v = item.get("v", item.get("value"))
        if t is None or v is None:
            raise BadPayload("each reading needs 't' (time) and 'v' (value)")
        out.append(RawReading(sensor, t, v))
    return out
