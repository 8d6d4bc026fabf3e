"""File operations shared by the destinations, local paths and gs:// alike.

Publishing writes with tf.io.gfile, imported on first use; reading what is published (which version
is in production, its source record) goes through components.common.files, without TensorFlow, so
a task that only looks that up starts in a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import Optional

from components.common import files


class _TensorFlowGfile:
    """tf.io.gfile, with TensorFlow imported when a destination first writes."""

    def __getattr__(self, name: str):
        import tensorflow as tf

        return getattr(tf.io.gfile, name)


gfile = _TensorFlowGfile()


def is_local(path: str) -> bool:
    return "://" not in path


def list_files(root: str) -> list[str]:
    """Paths of every file under `root`, relative to it."""
    files = []
    for directory, _, names in gfile.walk(root):
        relative = os.path.relpath(directory.rstrip("/"), root.rstrip("/"))
        files.extend(os.path.normpath(os.path.join(relative, name)) for name in names)
    return sorted(files)


def copy_files(src: str, dst: str, files: list[str], last: tuple[str, ...] = ()) -> None:
    """Copies `files` (relative paths) from `src` to `dst`; those named in `last` go last.

    On object stores a directory appears file by file, so a reader that waits for one marker file
    (TF Serving waits for saved_model.pb) never sees a half-copied model. Object stores need no
    directories, so none are created there (and no placeholder objects are left behind).
    """
    ordered = sorted(files, key=lambda f: os.path.basename(f) in last)
    for relative in ordered:
        target = os.path.join(dst, relative)
        if is_local(target):
            gfile.makedirs(os.path.dirname(target))
        gfile.copy(os.path.join(src, relative), target, overwrite=True)


def copy_tree(src: str, dst: str, last: tuple[str, ...] = ()) -> list[str]:
    """Copies a directory tree and returns the relative paths of the files copied."""
    files = list_files(src)
    copy_files(src, dst, files, last)
    return files


def promote(staging: str, final: str, files: list[str], last: tuple[str, ...] = ()) -> None:
    """Makes a staged directory (holding `files`) visible under its final name."""
    if is_local(staging):
        gfile.rename(staging, final)  # atomic on one filesystem
    else:  # object stores have no rename: copy (marker file last), then delete the staged objects
        copy_files(staging, final, files, last)
        remove_files(staging, files)


def remove_files(root: str, files: list[str]) -> None:
    for relative in files:
        path = os.path.join(root, relative)
        if gfile.exists(path):
            gfile.remove(path)
    if is_local(root) and gfile.exists(root):
        gfile.rmtree(root)


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


def read_text(path: str) -> Optional[str]:
    """The file's text; None if it does not exist."""
    return files.read_text(path) if files.exists(path) else None


def read_json(path: str) -> dict | None:
    text = read_text(path)
    return None if text is None else json.loads(text)


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
    if not files.isdir(path):
        return []
    names = (name.rstrip("/") for name in files.listdir(path))
    return sorted(int(name) for name in names if name.isdigit())
