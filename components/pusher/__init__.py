"""Pusher: one gated push of a blessed model to TF Serving, TF Hub and a mobile model bucket.

`Pusher` is imported on first use: the destinations' registry below this package is read while
the configuration is checked, which must not cost TFX's import."""

__all__ = ["Pusher"]


def __getattr__(name: str):
    if name == "Pusher":
        from components.pusher.component import Pusher

        return Pusher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
