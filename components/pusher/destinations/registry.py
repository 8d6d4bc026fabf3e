"""Every kind of publishing destination, by the name a configuration gives it.

A configuration lists destinations as `{kind: serving, root: gs://models/serving}` (plus the kind's
options, e.g. TF Hub's `publisher`); the Pusher, the DataGate and the baseline finder all build
them from that list with `build`. A new kind is one module in this folder (a `Destination`
subclass) and one line in KINDS; nothing else changes. Nothing here imports TensorFlow, so the
configuration is checked against it cheaply; the classes are imported when built.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from typing import Any, Mapping, Sequence

DESTINATIONS_KEY = "destinations"  # the execution property holding the list, as JSON


@dataclasses.dataclass(frozen=True)
class Kind:
    module: str  # the module holding the Destination subclass
    cls: str
    options: tuple[str, ...] = ()  # keyword arguments its constructor takes besides root, name


KINDS = {
    "serving": Kind(f"{__package__}.serving", "ServingDestination"),
    "hub": Kind(f"{__package__}.hub", "HubDestination", options=("publisher",)),
    "mobile": Kind(f"{__package__}.mobile", "MobileDestination"),
}


class DestinationSpecError(ValueError):
    """A destination entry that names no known kind, lacks a root or has unknown options."""


def check(spec: Mapping[str, Any]) -> None:
    kind = KINDS.get(spec.get("kind", ""))
    if kind is None:
        raise DestinationSpecError(f"destination {dict(spec)}: kind must be one of "
                                   f"{', '.join(KINDS)}")
    if not isinstance(spec.get("root"), str) or not spec["root"]:
        raise DestinationSpecError(f"destination {dict(spec)}: root must be a path or a URI")
    given = set(spec) - {"kind", "root"}
    if given != set(kind.options):
        raise DestinationSpecError(
            f"{spec['kind']} destination: options must be exactly "
            f"{', '.join(kind.options) or '(none)'}, got {', '.join(sorted(given)) or '(none)'}")


def build(specs: Sequence[Mapping[str, Any]] | str, model_name: str) -> list:
    """The Destination objects for `specs` (a list, or its JSON as an execution property holds
    it), in the given order."""
    if isinstance(specs, str):
        specs = json.loads(specs or "[]")
    built = []
    for spec in specs:
        check(spec)
        kind = KINDS[spec["kind"]]
        module = importlib.import_module(kind.module)
        options = {key: spec[key] for key in kind.options}
        built.append(getattr(module, kind.cls)(spec["root"], model_name, **options))
    return built


def destinations_from(exec_properties: Mapping[str, Any]) -> list:
    """The destinations an execution's properties name (`model_name` and the JSON list)."""
    return build(exec_properties.get(DESTINATIONS_KEY) or "[]", exec_properties["model_name"])
