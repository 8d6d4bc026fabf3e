"""Vocabulary tables the TFLite converter can carry: text-file initializers made constant.

tf.Transform's vocabularies are hash tables filled from an asset file when the model loads
(InitializeTableFromTextFileV2). TFLite's converter (TF 2.16) keeps the tables but drops that
initializer, so the converted model fails at its first look-up ("hashtable need to be initialized
before using"). It does carry tables filled from constants (LookupTableImportV2 becomes
HASHTABLE_IMPORT, run once by CALL_ONCE), if the initializer takes no file name.
`inline_text_file_tables` rewrites a SavedModel in place so that each text-file initializer is an
import of the file's contents as constants (same table, same ids) and no longer takes the file.
Used only on the copy of the model that the converter reads.
"""

from __future__ import annotations

import os

from tensorflow.core.framework import attr_value_pb2, node_def_pb2, types_pb2
from tensorflow.core.protobuf import saved_model_pb2

WHOLE_LINE, LINE_NUMBER = -2, -1


class TableRewriteError(ValueError):
    """A vocabulary table is initialized in a way the rewrite does not know."""


def _read_vocabulary(path: str, vocab_size: int) -> list[bytes]:
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "rb") as handle:
        lines = handle.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [line.rstrip(b"\r") for line in lines]
    return lines[:vocab_size] if vocab_size > 0 else lines


def _const(name: str, dtype: int, values: list) -> node_def_pb2.NodeDef:
    import tensorflow as tf

    node = node_def_pb2.NodeDef(name=name, op="Const")
    node.attr["dtype"].type = dtype
    node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(
        values, dtype=tf.as_dtype(dtype), shape=[len(values)]))
    return node


def _key_dtype(meta_graph, object_node) -> int:
    """The key dtype of the table a resource node creates (its _create_resource function)."""
    functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    for child in object_node.children:
        if child.local_name != "_create_resource":
            continue
        creator = meta_graph.object_graph_def.nodes[child.node_id].function.concrete_functions
        for name in creator:
            for node in functions[name].node_def:
                if node.op in ("HashTableV2", "HashTable"):
                    return node.attr["key_dtype"].type
    return types_pb2.DT_STRING


def _bound_objects(meta_graph) -> dict[tuple[str, str], int]:
    """(function, argument) -> the SavedModel object (asset, table resource) it receives.

    A function saved with the model has its captured objects as `bound_inputs`; a function it
    calls (a model loaded and saved again nests the original initializer) gets them through the
    call's inputs, followed here to a fixed point."""
    functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    bound: dict[tuple[str, str], int] = {}
    for name, concrete in meta_graph.object_graph_def.concrete_functions.items():
        if name in functions and concrete.bound_inputs:
            args = [a.name for a in functions[name].signature.input_arg]
            captured = args[len(args) - len(concrete.bound_inputs):]
            bound.update({(name, arg): node for arg, node in zip(captured, concrete.bound_inputs)})

    def source(function, name: str) -> str:
        """The argument a node input comes from, through Identity nodes."""
        nodes = {n.name: n for n in function.node_def}
        name = name.split(":")[0]
        while name in nodes and nodes[name].op == "Identity":
            name = nodes[name].input[0].split(":")[0]
        return name

    changed = True
    while changed:
        changed = False
        for function in functions.values():
            caller = function.signature.name
            for node in function.node_def:
                callee = node.attr["f"].func.name if "f" in node.attr else ""
                if node.op not in ("StatefulPartitionedCall", "PartitionedCall") or \
                        callee not in functions:
                    continue
                inputs = [i for i in node.input if not i.startswith("^")]
                for arg, given in zip((a.name for a in functions[callee].signature.input_arg),
                                      inputs):
                    origin = bound.get((caller, source(function, given)))
                    if origin is not None and (callee, arg) not in bound:
                        bound[(callee, arg)] = origin
                        changed = True
    return bound


def _drop_argument(meta_graph, function_name: str, index: int) -> None:
    """Removes argument `index` of a function (and the matching input of every call to it), and
    so on up the callers whose argument only fed it: the converter drops an initializer that
    still takes the asset's file name."""
    library = meta_graph.graph_def.library.function
    function = next(f for f in library if f.signature.name == function_name)
    arguments = len(function.signature.input_arg)
    del function.signature.input_arg[index]
    shapes = function.attr["_input_shapes"].list.shape if "_input_shapes" in function.attr else []
    if len(shapes) > index:
        del shapes[index]
    arg_attrs = dict(function.arg_attr)
    function.ClearField("arg_attr")
    for position, attrs in arg_attrs.items():
        if position != index:
            function.arg_attr[position - (position > index)].CopyFrom(attrs)
    concrete = meta_graph.object_graph_def.concrete_functions.get(function_name)
    if concrete is not None and concrete.bound_inputs:
        bound_index = index - (arguments - len(concrete.bound_inputs))
        if bound_index >= 0:
            del concrete.bound_inputs[bound_index]
    callers = [(None, meta_graph.graph_def.node)] + [(f, f.node_def) for f in library]
    for caller, nodes in callers:
        for node in nodes:
            if "f" not in node.attr or node.attr["f"].func.name != function_name:
                continue
            data = [i for i, name in enumerate(node.input) if not name.startswith("^")]
            given = node.input[data[index]].split(":")[0]
            del node.input[data[index]]
            if "Tin" in node.attr and len(node.attr["Tin"].list.type) > index:
                del node.attr["Tin"].list.type[index]
            if caller is None:
                continue
            names = [a.name for a in caller.signature.input_arg]
            used = any(name.split(":")[0].lstrip("^") == given
                       for n in caller.node_def for name in n.input)
            if given in names and not used and given not in caller.ret.values():
                _drop_argument(meta_graph, caller.signature.name, names.index(given))


def inline_text_file_tables(saved_model_dir: str) -> int:
    """Rewrites `saved_model_dir`/saved_model.pb; returns how many initializers were replaced.
    Initializer functions nothing calls (left over from an earlier save) stay as they are."""
    path = os.path.join(saved_model_dir, "saved_model.pb")
    saved_model = saved_model_pb2.SavedModel()
    with open(path, "rb") as handle:
        saved_model.ParseFromString(handle.read())
    meta_graph = saved_model.meta_graphs[0]
    objects = meta_graph.object_graph_def
    bound = _bound_objects(meta_graph)
    replaced = 0
    for function in meta_graph.graph_def.library.function:
        name = function.signature.name
        for node in [n for n in function.node_def if n.op == "InitializeTableFromTextFileV2"]:
            table_given = node.input[0]
            table_input, file_input = (i.split(":")[0] for i in node.input[:2])
            if (name, file_input) not in bound or (name, table_input) not in bound:
                continue  # not reachable from the saved objects: never runs
            asset = objects.nodes[bound[(name, file_input)]]
            if asset.WhichOneof("kind") != "asset":
                raise TableRewriteError(f"vocabulary table {node.name}: its file is not an asset")
            filename = meta_graph.asset_file_def[asset.asset.asset_file_def_index].filename
            key_index, value_index = node.attr["key_index"].i, node.attr["value_index"].i
            if (key_index, value_index) != (WHOLE_LINE, LINE_NUMBER) or node.attr["offset"].i:
                raise TableRewriteError(
                    f"vocabulary {filename}: keys from column {key_index} and values from "
                    f"column {value_index}; only whole-line keys with line-number ids are "
                    "(from the first line) are supported for TFLite")
            lines = _read_vocabulary(os.path.join(saved_model_dir, "assets", filename),
                                     node.attr["vocab_size"].i)
            key_dtype = _key_dtype(meta_graph, objects.nodes[bound[(name, table_input)]])
            keys = lines if key_dtype == types_pb2.DT_STRING else [int(k) for k in lines]
            keys_node = _const(f"{node.name}/inlined_keys", key_dtype, keys)
            values_node = _const(f"{node.name}/inlined_values", types_pb2.DT_INT64,
                                 list(range(len(lines))))
            control = [i for i in node.input if i.startswith("^")]
            node.op = "LookupTableImportV2"
            del node.input[:]
            node.input.extend([table_given, f"{keys_node.name}:output:0",
                               f"{values_node.name}:output:0", *control])
            for attr in [a for a in node.attr if a != "_class"]:
                del node.attr[attr]
            node.attr["Tin"].CopyFrom(attr_value_pb2.AttrValue(type=key_dtype))
            node.attr["Tout"].CopyFrom(attr_value_pb2.AttrValue(type=types_pb2.DT_INT64))
            function.node_def.extend([keys_node, values_node])
            replaced += 1
            if not any(file_input == i.split(":")[0] for n in function.node_def for i in n.input):
                _drop_argument(meta_graph, name,
                               [a.name for a in function.signature.input_arg].index(file_input))
    if replaced:
        with open(path, "wb") as handle:
            handle.write(saved_model.SerializeToString())
    return replaced
