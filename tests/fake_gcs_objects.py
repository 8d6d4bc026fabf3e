"""Cloud Storage's object preconditions, in memory and thread-safe, for the publish lease.

fake-gcs-server (the emulator the publishing tests use) deadlocks under concurrent conditional
writes and ignores a delete's generation condition, so it cannot stand in for GCS where two
writers race. This stands in for exactly the calls components/pusher/destinations/lease.py makes,
with GCS's rules (https://cloud.google.com/storage/docs/request-preconditions): every write makes
a new generation; `if_generation_match=0` succeeds only if the object does not exist; any other
value only if it is the live generation; a failed condition is 412 PreconditionFailed; a missing
object is 404 NotFound. Each call is atomic, as on GCS.
"""

from __future__ import annotations

import datetime
import itertools
import threading
from typing import Optional

from google.api_core import exceptions


class Bucket:
    def __init__(self):
        self._lock = threading.Lock()
        self._objects: dict[str, tuple[bytes, int, datetime.datetime]] = {}
        self._generations = itertools.count(1_000_000)

    def blob(self, name: str) -> "Blob":
        return Blob(self, name)

    def get_blob(self, name: str) -> Optional["Blob"]:
        with self._lock:
            if name not in self._objects:
                return None
            _, generation, updated = self._objects[name]
        return Blob(self, name, generation, updated)

    def _check(self, name: str, if_generation_match: Optional[int]) -> None:
        live = self._objects.get(name)
        if if_generation_match is None:
            return
        if if_generation_match == 0 and live is None:
            return
        if live is None or live[1] != if_generation_match:
            raise exceptions.PreconditionFailed(f"412 conditionNotMet: {name}")


class Blob:
    def __init__(self, bucket: Bucket, name: str, generation: Optional[int] = None,
                 updated: Optional[datetime.datetime] = None):
        self.bucket, self.name, self.generation, self.updated = bucket, name, generation, updated

    def upload_from_string(self, data, if_generation_match: Optional[int] = None) -> None:
        content = data.encode() if isinstance(data, str) else bytes(data)
        with self.bucket._lock:
            self.bucket._check(self.name, if_generation_match)
            self.generation = next(self.bucket._generations)
            self.updated = datetime.datetime.now(datetime.timezone.utc)
            self.bucket._objects[self.name] = (content, self.generation, self.updated)

    def download_as_bytes(self, if_generation_match: Optional[int] = None) -> bytes:
        with self.bucket._lock:
            if self.name not in self.bucket._objects:
                raise exceptions.NotFound(f"404 {self.name}")
            self.bucket._check(self.name, if_generation_match)
            return self.bucket._objects[self.name][0]

    def delete(self, if_generation_match: Optional[int] = None) -> None:
        with self.bucket._lock:
            if self.name not in self.bucket._objects:
                raise exceptions.NotFound(f"404 {self.name}")
            self.bucket._check(self.name, if_generation_match)
            del self.bucket._objects[self.name]
