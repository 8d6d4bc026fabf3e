"""Reading and small writes on local paths and gs:// without TensorFlow.

Tasks that only look something up (the newest span, the model in production) would spend most of
their time importing TensorFlow for `tf.io.gfile`; these use the standard library for local paths
and google-cloud-storage (imported only for gs://) for Cloud Storage. A gs:// "directory" is a
name prefix, as TensorFlow's GCS filesystem sees it.
"""

from __future__ import annotations

import functools
import glob as local_glob
import os
import re

GS = "gs://"


def is_gcs(path: str) -> bool:
    return path.startswith(GS)


def _split(path: str) -> tuple[str, str]:
    bucket, _, name = path[len(GS):].partition("/")
    return bucket, name


@functools.lru_cache(maxsize=None)
def _client():
    from google.cloud import storage

    return storage.Client()


def _blob(path: str):
    bucket, name = _split(path)
    return _client().bucket(bucket).blob(name)


def _prefix(path: str) -> str:
    return _split(path)[1].rstrip("/") + "/"


def isdir(path: str) -> bool:
    if not is_gcs(path):
        return os.path.isdir(path)
    bucket, _ = _split(path)
    return any(True for _ in _client().list_blobs(bucket, prefix=_prefix(path), max_results=1))


def exists(path: str) -> bool:
    if not is_gcs(path):
        return os.path.exists(path)
    return _blob(path).exists() or isdir(path)


def listdir(path: str) -> list[str]:
    """Names of the entries directly under `path` (no trailing "/")."""
    if not is_gcs(path):
        return os.listdir(path)
    bucket, _ = _split(path)
    prefix = _prefix(path)
    listing = _client().list_blobs(bucket, prefix=prefix, delimiter="/")
    names = [blob.name[len(prefix):] for blob in listing]  # consumes pages, fills prefixes
    names += [sub[len(prefix):].rstrip("/") for sub in listing.prefixes]
    return sorted(name for name in names if name)


def read_text(path: str) -> str:
    if not is_gcs(path):
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    return _blob(path).download_as_text()


def write_text(path: str, text: str) -> None:
    """Writes `path`, creating its local parent directories (object stores need none)."""
    if not is_gcs(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    _blob(path).upload_from_string(text)


def glob(pattern: str) -> list[str]:
    """Paths matching a glob pattern (`*` and `?` stay within one path segment); on gs://
    objects only, not the "directories" their names imply."""
    if not is_gcs(pattern):
        return sorted(local_glob.glob(pattern))
    bucket, name_pattern = _split(pattern)
    fixed = re.split(r"[*?]", name_pattern, maxsplit=1)[0]
    matcher = re.compile("".join({"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
                                 for c in name_pattern) + r"\Z")
    return [f"{GS}{bucket}/{blob.name}" for blob in _client().list_blobs(bucket, prefix=fixed)
            if matcher.match(blob.name)]


def size_and_mtime(path: str) -> tuple[int, int]:
    """A file's size in bytes and its modification time in whole seconds."""
    if not is_gcs(path):
        stat = os.stat(path)
        return stat.st_size, int(stat.st_mtime_ns // 1_000_000_000)
    blob = _client().bucket(_split(path)[0]).get_blob(_split(path)[1])
    return blob.size, int(blob.updated.timestamp())
