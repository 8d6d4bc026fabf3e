"""Can a publish to this destination succeed? Checked before training, so a path that is a file, a
directory the user cannot write or a bucket without credentials is named at second 0, not after
the whole chain has run. Nothing is left behind: local paths are only inspected, and on gs:// the
probe object is deleted."""

from __future__ import annotations

import os
import threading
import uuid

from components.pusher.destinations.base import PublishError

# TensorFlow's GCS filesystem retries an unreachable endpoint for minutes; a probe that has not
# answered by then will not answer the Pusher either.
GCS_PROBE_SECONDS = 60.0


def check_writable(root: str) -> None:
    """Raises PublishError naming `root` and the reason when publishing under it must fail."""
    if root.startswith("gs://"):
        _check_gcs(root)
    elif "://" not in root:
        _check_local(root)


def _check_local(root: str) -> None:
    existing = os.path.abspath(root)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        where = "" if existing == os.path.abspath(root) else f" ({existing} is a file)"
        raise PublishError(f"cannot publish to {root}: not a directory{where}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PublishError(f"cannot publish to {root}: {existing} is not writable by this user")


def _check_gcs(root: str) -> None:
    emulated = os.environ.get("STORAGE_EMULATOR_HOST") or os.environ.get(
        "CLOUD_STORAGE_EMULATOR_ENDPOINT")
    if not emulated:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            google.auth.default()
        except DefaultCredentialsError:
            raise PublishError(
                f"cannot publish to {root}: no Google credentials (run `gcloud auth "
                "application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS)") from None
    probe = f"{root.rstrip('/')}/.write-check-{uuid.uuid4().hex}"
    outcome: list[BaseException | None] = []

    def write_and_delete() -> None:
        import tensorflow as tf

        try:
            with tf.io.gfile.GFile(probe, "w") as handle:
                handle.write("")
            tf.io.gfile.remove(probe)
            outcome.append(None)
        except Exception as err:  # TensorFlow's errors name the bucket and the HTTP status
            outcome.append(err)

    worker = threading.Thread(target=write_and_delete, daemon=True)
    worker.start()
    worker.join(GCS_PROBE_SECONDS)
    if not outcome:
        raise PublishError(f"cannot publish to {root}: no answer from Cloud Storage in "
                           f"{GCS_PROBE_SECONDS:.0f} s (network?)")
    if outcome[0] is not None:
        first_line = str(outcome[0]).strip().splitlines()[0] if str(outcome[0]).strip() else ""
        raise PublishError(f"cannot publish to {root}: {type(outcome[0]).__name__}: {first_line}")
