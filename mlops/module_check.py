"""The user module's contract, checked before the pipeline starts (seconds, not minutes into a
run): it parses, and defines the functions TFX calls (Transform's preprocessing_fn, the Trainer's
run_fn). Read with `ast`, without importing it: importing would run the user's code here."""

from __future__ import annotations

import ast

REQUIRED = {"preprocessing_fn": "Transform", "run_fn": "the Trainer"}


class ModuleError(ValueError):
    """The module cannot be what TFX runs; the message names the file and what is wrong."""


def top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def check(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as err:
        raise ModuleError(f"module_file {path} does not parse: line {err.lineno}, column "
                          f"{err.offset}: {err.msg}") from None
    names = top_level_names(tree)
    missing = [f"{name} ({caller} calls it)" for name, caller in REQUIRED.items()
               if name not in names]
    if missing:
        raise ModuleError(f"module_file {path} defines no {' and no '.join(missing)}")


def check_feature_reads(path: str, columns: list[str]) -> None:
    """`inputs['name']` in preprocessing_fn for a name the data does not have, found now rather
    than as Transform's bare KeyError minutes into the run. Only literal names are checked."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=path)
    function = next((node for node in tree.body if isinstance(node, ast.FunctionDef)
                     and node.name == "preprocessing_fn" and node.args.args), None)
    if function is None:
        return
    inputs = function.args.args[0].arg
    known = set(columns)
    for node in ast.walk(function):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                and node.value.id == inputs and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str) and node.slice.value not in known):
            shown = ", ".join(sorted(known)[:20]) + (" ..." if len(known) > 20 else "")
            raise ModuleError(f"module_file {path}, line {node.lineno}: preprocessing_fn reads "
                              f"{inputs}[{node.slice.value!r}], which the input data does not "
                              f"have (its features: {shown})")
