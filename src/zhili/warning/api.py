"""/api/v1/warning: the sensors' HTTP batch intake (the transport besides MQTT)."""

from __future__ import annotations

import hmac

from ninja import Router
from ninja.security import APIKeyHeader

from zhili.core.errors import NotAuthenticated
from zhili.core.schemas import ProblemOut
from zhili.warning.ingest import RawReading, readings_ingest, sensors_by_code
from zhili.warning.schemas import IngestOut, ReadingBatchIn
from zhili.warning.services import sensor_key_hash

router = Router(tags=["warning"])


class SensorKey(APIKeyHeader):
    """`X-Sensor-Key`: the key `sensor_register` gave the sensor (checked per batch
    against the sensor it names)."""

    param_name = "X-Sensor-Key"

    def authenticate(self, request, key):
        return key or None


@router.post("/readings", response={200: IngestOut, 401: ProblemOut, 422: ProblemOut},
             auth=SensorKey(), summary="A batch of one sensor's readings (idempotent on sensor and time)")
def readings_post(request, batch: ReadingBatchIn):
    sensor = sensors_by_code([batch.sensor]).get(batch.sensor)
    key = request.auth or ""
    # The same answer for an unknown sensor and a wrong key: no probing for codes.
    if sensor is None or not sensor.key_hash or \
            not hmac.compare_digest(sensor.key_hash, sensor_key_hash(key)):
        raise NotAuthenticated("The sensor and its key do not match.")
    report = readings_ingest(readings=[RawReading(batch.sensor, r.t, r.v) for r in batch.readings])
    return report.as_dict()
