"""The publish lease on its own: writers take turns, a dead writer's lease is taken over once,
a live one is waited for. Object storage through tests/fake_gcs_objects.py (GCS's precondition
rules, atomic); local paths through a real flock."""

from __future__ import annotations

import json
import threading
import time

import pytest

from components.pusher.destinations import lease as lease_module
from components.pusher.destinations.lease import Lease, LeaseBusy
from tests.fake_gcs_objects import Bucket

BASE = "gs://models/serving/digits"


@pytest.fixture
def bucket(monkeypatch):
    fake = Bucket()
    monkeypatch.setattr(lease_module, "_bucket", lambda uri: fake)
    return fake


def _take_turns(base: str, writers: int = 3, rounds: int = 12) -> int:
    """Writers doing a read-modify-write under the lease that loses updates without it."""
    counter = {"value": 0}

    def write() -> None:
        for _ in range(rounds):
            with Lease(base, poll=0.001, wait=60):
                value = counter["value"]
                time.sleep(0.002)
                counter["value"] = value + 1

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return counter["value"]


def test_writers_take_turns_on_object_storage_and_leave_no_lease(bucket):
    assert _take_turns(BASE) == 36
    assert bucket.get_blob("serving/digits/.publish-lease") is None


def test_writers_take_turns_on_a_local_path(tmp_path):
    assert _take_turns(str(tmp_path / "serving/digits")) == 36


def _plant(bucket, **record) -> int:
    blob = bucket.blob("serving/digits/.publish-lease")
    blob.upload_from_string(json.dumps(record), if_generation_match=0)
    return blob.generation


def test_an_expired_lease_of_a_dead_writer_is_taken_over(bucket):
    stale = _plant(bucket, owner="dead", host="elsewhere", pid=1, expires=time.time() - 1)
    with Lease(BASE, wait=5) as held:
        record = json.loads(bucket.get_blob("serving/digits/.publish-lease").download_as_bytes())
        assert record["owner"] == held.token
        assert bucket.get_blob("serving/digits/.publish-lease").generation != stale


def test_a_live_lease_is_waited_for_then_refused_naming_the_holder(bucket):
    _plant(bucket, owner="other", host="builder-7", pid=4242, expires=time.time() + 600)
    with pytest.raises(LeaseBusy, match="host builder-7, process 4242"):
        Lease(BASE, wait=0.3, poll=0.05).acquire()


def test_two_writers_taking_over_one_dead_lease_never_both_hold_it(bucket):
    for _ in range(20):
        _plant(bucket, owner="dead", host="elsewhere", pid=1, expires=time.time() - 1)
        holding, overlaps = [], []
        start = threading.Barrier(2)

        def take() -> None:
            start.wait()
            lease = Lease(BASE, poll=0.001, wait=10).acquire()
            holding.append(lease)
            if len(holding) > 1:
                overlaps.append(True)
            time.sleep(0.005)
            holding.remove(lease)
            lease.release()

        threads = [threading.Thread(target=take) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert overlaps == []
        assert bucket.get_blob("serving/digits/.publish-lease") is None
