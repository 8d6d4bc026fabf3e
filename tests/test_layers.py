"""Imports point down the layers only. From the bottom: the shared vocabulary
(`components/common`), the custom components, the platform's library (`mlops`: configuration,
data, ML Metadata readers, pages), the pipeline definition and its runners (`pipelines`), and the
command line with what its commands do (`mlops/cli.py`, `mlops/commands/`) on top. Every import
counts, also those delayed inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest first; a module may import modules of its own layer and of the layers below it.
LAYERS = (("components.common",), ("components",), ("mlops",), ("pipelines",),
          ("mlops.cli", "mlops.commands"))
PACKAGES = ("components", "mlops", "pipelines")


def layer(module: str) -> int | None:
    """The layer of `module`: the longest prefix in LAYERS naming it (None: not ours)."""
    matches = [(len(prefix), index) for index, prefixes in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    return max(matches)[1] if matches else None


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            # `from components.common import names` imports a module one level down.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_layer_of_a_module():
    assert layer("components.common.names") == 0
    assert layer("components.pusher.executor") == 1
    assert layer("mlops.metadata") == 2
    assert layer("pipelines.pipeline") == 3
    assert layer("mlops.cli") == layer("mlops.commands.local_run") == 4
    assert layer("tensorflow") is None


def test_no_import_points_up_a_layer():
    upward = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name.endswith("_test.py") or "digits" in path.parts:
                continue  # tests sit beside what they test; the user module may import anything
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(
                ".__init__")
            own = layer(module)
            for line, target in imports(path):
                theirs = layer(target)
                if theirs is not None and theirs > own:
                    upward.append(f"{path.relative_to(ROOT)}:{line} (layer {own}) imports "
                                  f"{target} (layer {theirs})")
    assert not upward, "\n".join(upward)
