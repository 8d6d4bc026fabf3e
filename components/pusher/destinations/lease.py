"""One publisher at a time per destination: a lease object created only if absent.

Object storage has no locks and no rename; what it has is a create-only write (GCS's
`ifGenerationMatch=0`) and a delete conditioned on the generation read. The lease object records
its owner and an expiry, so the lease of a writer that died is taken over after it expires (at
once on the same host when its process is gone); two writers taking over the same dead lease both
delete only the generation they read, so at most one of them then creates the next. A local
filesystem has real locks: an flock on the lease file, which the kernel drops when its process
dies, so a local lease is never stale.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import time
import uuid
from typing import Optional

LEASE_FILE = ".publish-lease"
TTL_SECONDS = 1800.0  # longer than any publish (load check, Hub archive, copies)
WAIT_SECONDS = 1800.0


class LeaseBusy(RuntimeError):
    """Another publisher held the lease for longer than we were willing to wait."""


def _split_gs(uri: str) -> tuple[str, str]:
    bucket, _, name = uri[len("gs://"):].partition("/")
    return bucket, name


class Lease:
    def __init__(self, base: str, ttl: float = TTL_SECONDS, wait: float = WAIT_SECONDS,
                 poll: float = 0.5, clock=time.time, sleep=time.sleep):
        self.path = os.path.join(base, LEASE_FILE)
        self.ttl, self.wait, self.poll = ttl, wait, poll
        self.clock, self.sleep = clock, sleep
        self.token = uuid.uuid4().hex
        self._handle = None

    # -- storage primitives ------------------------------------------------------------------
    def _record(self) -> bytes:
        return json.dumps({"owner": self.token, "host": socket.gethostname(), "pid": os.getpid(),
                           "expires": self.clock() + self.ttl}).encode()

    def _create(self) -> bool:
        """Takes the lease if no one holds it; False if someone does."""
        if self.path.startswith("gs://"):
            from google.api_core import exceptions

            blob = _bucket(self.path).blob(_split_gs(self.path)[1])
            try:
                blob.upload_from_string(self._record(), if_generation_match=0)
            except (exceptions.PreconditionFailed, exceptions.TooManyRequests):
                return False
            return True
        import fcntl

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        handle = open(self.path, "a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(self._record())
        handle.flush()
        self._handle = handle
        return True

    def _read(self) -> tuple[Optional[dict], Optional[int]]:
        """The current lease and its generation (None, None when there is none)."""
        if self.path.startswith("gs://"):
            from google.api_core import exceptions

            blob = _bucket(self.path).get_blob(_split_gs(self.path)[1])
            if blob is None:
                return None, None
            try:
                content = blob.download_as_bytes(if_generation_match=blob.generation)
            except (exceptions.NotFound, exceptions.PreconditionFailed):
                return None, None  # released (or replaced) meanwhile: try to create again
            try:
                return json.loads(content), blob.generation
            except ValueError:  # not ours to read: expires like any other lease
                updated = blob.updated.timestamp() if blob.updated else 0.0
                return {"expires": updated + self.ttl}, blob.generation
        try:
            with open(self.path, "rb") as handle:
                return json.loads(handle.read() or b"{}"), None
        except (FileNotFoundError, ValueError):  # never written, or being rewritten
            return {"expires": float("inf")}, None

    def _delete(self, generation: Optional[int]) -> None:
        """Deletes the lease object, only the generation that was read (never a newer one)."""
        from google.api_core import exceptions

        try:
            _bucket(self.path).blob(_split_gs(self.path)[1]).delete(if_generation_match=generation)
        except (exceptions.NotFound, exceptions.PreconditionFailed):
            pass

    # -- the protocol --------------------------------------------------------------------------
    def _abandoned(self, record: dict) -> bool:
        if not self.path.startswith("gs://"):
            return False  # a local lock dies with its process
        if record.get("expires", 0) < self.clock():
            return True
        if record.get("host") == socket.gethostname() and record.get("pid"):
            try:
                os.kill(int(record["pid"]), 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        return False

    def acquire(self, on_wait=None) -> "Lease":
        deadline = self.clock() + self.wait
        record = None
        while True:
            # On GCS a waiter reads, and writes only when the lease looks free: one object takes
            # about one write per second.
            if (record is None or not self.path.startswith("gs://")) and self._create():
                return self
            record, generation = self._read()
            if record is not None and self._abandoned(record):
                self._delete(generation)  # taken over; the next create decides who wins
                continue
            if self.clock() > deadline:
                owner = (record or {}).get("host", "?"), (record or {}).get("pid", "?")
                raise LeaseBusy(f"another publish (host {owner[0]}, process {owner[1]}) has held "
                                f"{self.path} for longer than {self.wait:.0f}s")
            if on_wait:
                on_wait(record)
            self.sleep(self.poll)

    def release(self) -> None:
        if not self.path.startswith("gs://"):
            handle, self._handle = self._handle, None
            if handle is not None:
                handle.close()  # closing drops the flock
            return
        record, generation = self._read()
        if record and record.get("owner") == self.token:
            self._delete(generation)

    def __enter__(self) -> "Lease":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


@functools.lru_cache(maxsize=None)
def _client():
    from google.cloud import storage

    return storage.Client()


def _bucket(uri: str):
    return _client().bucket(_split_gs(uri)[0])
