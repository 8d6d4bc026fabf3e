"""File operations shared by the destinations, on tf.io.gfile (local paths and gs:// alike)."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import tensorflow as tf

gfile = tf.io.gfile


def is_local(path: str) -> bool:
    return "://" not in path


def copy_tree(src: str, dst: str, last: tuple[str, ...] = ()) -> None:
    """Copies a directory tree; files named in `last` are copied after all others.

    On object stores a directory appears file by file, so a reader that waits for one marker file
    (TF Serving waits for saved_model.pb) never sees a half-copied model.
    """
    deferred = []
    for directory, _, files in gfile.walk(src):
        relative = os.path.relpath(directory, src)
        target = dst if relative == "." else os.path.join(dst, relative)
        gfile.makedirs(target)
        for name in files:
            pair = (os.path.join(directory, name), os.path.join(target, name))
            if name in last:
                deferred.append(pair)
            else:
                gfile.copy(*pair, overwrite=True)
    for pair in deferred:
        gfile.copy(*pair, overwrite=True)


def promote(staging: str, final: str, last: tuple[str, ...] = ()) -> None:
    """Makes a staged directory visible under its final name."""
    if is_local(staging):
        gfile.rename(staging, final)  # atomic on one filesystem
    else:
        copy_tree(staging, final, last=last)
        gfile.rmtree(staging)


def remove(path: str) -> None:
    if gfile.exists(path):
        if gfile.isdir(path):
            gfile.rmtree(path)
        else:
            gfile.remove(path)


def write_atomically(path: str, data: bytes | str) -> None:
    """Writes a temporary object beside `path`, then replaces `path` with it."""
    tmp = f"{path}.tmp-{uuid.uuid4().hex}"
    with gfile.GFile(tmp, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
    gfile.rename(tmp, path, overwrite=True)


def read_json(path: str) -> dict | None:
    if not gfile.exists(path):
        return None
    with gfile.GFile(path, "r") as handle:
        return json.loads(handle.read())


def write_json(path: str, value: dict) -> None:
    with gfile.GFile(path, "w") as handle:
        handle.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with gfile.GFile(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def integer_children(path: str) -> list[int]:
    """Version numbers: the children of `path` whose names are integers."""
    if not gfile.isdir(path):
        return []
    names = (name.rstrip("/") for name in gfile.listdir(path))
    return sorted(int(name) for name in names if name.isdigit())
