"""Pusher: one gated push of a blessed model to TF Serving, TF Hub and a mobile model bucket."""

from components.pusher.component import Pusher

__all__ = ["Pusher"]
