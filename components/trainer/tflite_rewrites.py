"""TF ops of TFX-style models that TFLite has no builtin for, rewritten into exact builtin ones.

Without them the converter needs the Flex delegate (select TF ops), which phones rarely ship:
- `StringToHashBucket*` with one bucket, the out-of-vocabulary id of
  `StaticVocabularyTable(num_oov_buckets=1)` (tft.compute_and_apply_vocabulary's default OOV
  handling): always 0, so Fill(Shape(x), 0). More buckets need FarmHash and stay as they are.
- `UpperBound` / `LowerBound` (tf.searchsorted; tft.bucketize and tft.apply_buckets emit
  UpperBound): the insertion point in a sorted row is how many boundaries lie before the value,
  so a comparison of every value with every boundary, counted (Less, Cast, Sum).
- `SparseToDense` on strings (TFX's _fill_in_missing, tf.sparse.to_dense(x, '')): TFLite has no
  builtin that joins two string tensors (ConcatV2, SelectV2, Pack, Pad, ScatterNd, BroadcastTo),
  so the dense strings cannot be built. The op is carried instead to where the strings become
  numbers: the dense tensor is Gather(Concat([default], values), positions), with positions from
  ScatterNd of 1..n (0 where no value); shape ops (Squeeze, Reshape, Shape...) move onto the
  positions, and an element-wise op on the strings (a vocabulary look-up, a hash) runs on the
  default and on the values, its results are concatenated and gathered. If any use of the
  strings is another op (or leaves the function), that SparseToDense is left as it is.

Every rewrite gives bit-identical results for valid inputs (SparseToDense: indices in range and
without duplicates, as its validate_indices asserts), with one exception measured in
tf.lite.Interpreter: it compares a subnormal float (|x| < 1.2e-38) as 0, TensorFlow does not.
Used only on the copy of the model that the converter reads; the rewritten SavedModel still runs
in TensorFlow.
"""

from __future__ import annotations

import collections
import os

import numpy as np
from tensorflow.core.framework import attr_value_pb2, node_def_pb2, types_pb2
from tensorflow.core.protobuf import saved_model_pb2

ONE_BUCKET_HASHES = ("StringToHashBucketFast", "StringToHashBucketStrong", "StringToHashBucket")
SORTED_SEARCHES = ("UpperBound", "LowerBound")
COMPARABLE = (types_pb2.DT_FLOAT, types_pb2.DT_INT32, types_pb2.DT_INT64)  # TFLite's LESS
# Ops that only move a tensor's elements about or read its shape: on the dense strings they act
# the same on the positions (input 0 is the tensor).
STRING_LAYOUT = ("Identity", "Reshape", "Squeeze", "ExpandDims")
STRING_SHAPE = ("Shape", "Size", "Rank")
# Element-wise ops from strings to numbers: op -> (index of the strings input, output name,
# output dtype of a node).
STRING_ELEMENTWISE = {
    "LookupTableFindV2": (1, "values", lambda node: _attr_type(node, "Tout")),
    **{op: (0, "output", lambda node: types_pb2.DT_INT64) for op in ONE_BUCKET_HASHES},
    "StringLength": (0, "output", lambda node: types_pb2.DT_INT32),
    "StringToNumber": (0, "output", lambda node: _attr_type(node, "out_type")),
}
SUMMARIES = {
    "hash": "StringToHashBucket* (1 bucket) x{} -> Fill(Shape, 0)",
    "search": "UpperBound/LowerBound x{} -> ExpandDims+Less+Cast+Sum (UpperBound: "
              "Shape+StridedSlice+Sub, boundaries minus those above)",
    "dense": "SparseToDense (string) x{} -> ScatterNd positions + GatherV2 after its element-wise "
             "uses",
    "bincount": "DenseBincount (no weights) x{} -> OneHot+Sum (Max for binary_output)",
    "select": "SelectV2 (integers) x{} -> Cast+Mul+AddV2 (TFLite's SELECT_V2 after a look-up "
              "fails a first call on one example)",
    "dense_left": "SparseToDense (string) x{} left as is (Flex): its strings are used by an op "
                  "other than a shape op or an element-wise op to numbers",
}


def _output_name(op: str) -> str:
    """The name of an op's first output, as a FunctionDef refers to it (`node:<name>:0`)."""
    from tensorflow.python.framework import op_def_registry

    return op_def_registry.get(op).output_arg[0].name


def _attr_type(node: node_def_pb2.NodeDef, attr: str) -> int:
    """A type attr of a node; the op's default where a SavedModel left it out (as it does)."""
    from tensorflow.python.framework import op_def_registry

    if attr in node.attr:
        return node.attr[attr].type
    return next(a.default_value.type for a in op_def_registry.get(node.op).attr if a.name == attr)


def _type(dtype: int) -> attr_value_pb2.AttrValue:
    return attr_value_pb2.AttrValue(type=dtype)


def _int(value: int) -> attr_value_pb2.AttrValue:
    return attr_value_pb2.AttrValue(i=value)


def _bool(value: bool) -> attr_value_pb2.AttrValue:
    return attr_value_pb2.AttrValue(b=value)


class _Body:
    """A FunctionDef's nodes, edited in place: new nodes get unique names under a prefix."""

    def __init__(self, function):
        self.function = function
        self.names = {node.name for node in function.node_def}

    def consumers(self, name: str) -> list[tuple[node_def_pb2.NodeDef, int]]:
        """(node, input index) of every data input that reads an output of node `name`."""
        return [(node, index) for node in self.function.node_def
                for index, given in enumerate(node.input)
                if not given.startswith("^") and given.split(":")[0] == name]

    def returned(self, name: str) -> bool:
        return any(value.split(":")[0] == name for value in self.function.ret.values())

    def add(self, name: str, op: str, inputs: list[str], **attrs) -> str:
        """Adds a node; returns the reference to its first output (`name:<output>:0`)."""
        unique, suffix = name, 1
        while unique in self.names:
            unique, suffix = f"{name}_{suffix}", suffix + 1
        self.names.add(unique)
        node = self.function.node_def.add(name=unique, op=op, input=inputs)
        for key, value in attrs.items():
            node.attr[key].CopyFrom(value)
        return f"{unique}:{_output_name(op)}:0"

    def copy(self, node: node_def_pb2.NodeDef, name: str) -> node_def_pb2.NodeDef:
        """The same op on the same inputs, under a new unique name."""
        reference = self.add(name, node.op, list(node.input))
        copy = next(n for n in self.function.node_def if n.name == reference.split(":")[0])
        for key, value in node.attr.items():
            copy.attr[key].CopyFrom(value)
        copy.device = node.device
        return copy

    def constant(self, name: str, value, dtype: int) -> str:
        import tensorflow as tf

        unique = self.add(name, "Const", [], dtype=_type(dtype)).split(":")[0]
        node = next(n for n in self.function.node_def if n.name == unique)
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(
            np.asarray(value), dtype=tf.as_dtype(dtype)))
        return f"{unique}:output:0"

    def replace(self, node: node_def_pb2.NodeDef, op: str, inputs: list[str],
                old_output: str, **attrs) -> None:
        """Makes `node` (same name, same control inputs) a new op; references to its output
        `old_output` are renamed to the new op's."""
        control = [given for given in node.input if given.startswith("^")]
        name, device = node.name, node.device
        node.Clear()
        node.name, node.op, node.device = name, op, device
        node.input.extend([*inputs, *control])
        for key, value in attrs.items():
            node.attr[key].CopyFrom(value)
        if old_output != _output_name(op):
            old, new = f"{node.name}:{old_output}:", f"{node.name}:{_output_name(op)}:"
            for other in self.function.node_def:
                for index, given in enumerate(other.input):
                    if given.startswith(old):
                        other.input[index] = new + given[len(old):]
            for key, value in self.function.ret.items():
                if value.startswith(old):
                    self.function.ret[key] = new + value[len(old):]



def _rewrite_one_bucket_hashes(body: _Body) -> int:
    """A hash into one bucket is 0 for every string: int64 zeros of the input's shape."""
    rewritten = 0
    for node in list(body.function.node_def):
        if node.op not in ONE_BUCKET_HASHES or node.attr["num_buckets"].i != 1:
            continue
        strings = node.input[0]
        shape = body.add(f"{node.name}/shape", "Shape", [strings], T=_type(types_pb2.DT_STRING),
                         out_type=_type(types_pb2.DT_INT32))
        zero = body.constant(f"{node.name}/zero", 0, types_pb2.DT_INT64)
        body.replace(node, "Fill", [shape, zero], "output", T=_type(types_pb2.DT_INT64),
                     index_type=_type(types_pb2.DT_INT32))
        rewritten += 1
    return rewritten


def _rewrite_sorted_searches(body: _Body) -> int:
    """LowerBound(s, v): how many of a row's boundaries s are below v. UpperBound: how many are
    not above v, counted as M minus those above (a NaN value is above none: M, as the binary
    search gives; LogicalNot(Less) would be turned into GreaterEqual, which is false for NaN)."""
    rewritten = 0
    int32 = types_pb2.DT_INT32
    for node in list(body.function.node_def):
        if node.op not in SORTED_SEARCHES or _attr_type(node, "T") not in COMPARABLE:
            continue
        dtype, out_type, name = _attr_type(node, "T"), _attr_type(node, "out_type"), node.name
        boundaries, values = node.input[0], node.input[1]  # [batch, M] and [batch, K]

        def expand(tensor: str, axis: int, part: str) -> str:
            return body.add(f"{name}/{part}", "ExpandDims",
                            [tensor, body.constant(f"{name}/{part}_axis", axis, int32)],
                            T=_type(dtype), Tdim=_type(int32))

        def count(condition: str, part: str) -> str:
            """How many boundaries of each value's row meet `condition` ([batch, K, M])."""
            ones = body.add(f"{name}/{part}", "Cast", [condition], SrcT=_type(types_pb2.DT_BOOL),
                            DstT=_type(out_type), Truncate=_bool(False))
            return body.add(f"{name}/{part}_count", "Sum",
                            [ones, body.constant(f"{name}/{part}_axis", 2, int32)],
                            T=_type(out_type), Tidx=_type(int32), keep_dims=_bool(False))

        value_column = expand(values, 2, "values_column")  # [batch, K, 1]
        boundary_row = expand(boundaries, 1, "boundaries_row")  # [batch, 1, M]
        if node.op == "LowerBound":
            below = body.add(f"{name}/boundary_below", "Less", [boundary_row, value_column],
                             T=_type(dtype))
            body.replace(node, "Identity", [count(below, "below")], "output",
                         T=_type(out_type))
        else:
            above = body.add(f"{name}/boundary_above", "Less", [value_column, boundary_row],
                             T=_type(dtype))
            shape = body.add(f"{name}/boundaries_shape", "Shape", [boundaries], T=_type(dtype),
                             out_type=_type(out_type))
            last = [body.constant(f"{name}/last_{part}", [value], int32)
                    for part, value in (("begin", -1), ("end", 0), ("stride", 1))]
            total = body.add(f"{name}/boundaries", "StridedSlice", [shape, *last],
                             T=_type(out_type), Index=_type(int32), begin_mask=_int(0),
                             end_mask=_int(1), ellipsis_mask=_int(0), new_axis_mask=_int(0),
                             shrink_axis_mask=_int(1))
            body.replace(node, "Sub", [total, count(above, "above")], "output",
                         T=_type(out_type))
        rewritten += 1
    return rewritten


def _string_uses(body: _Body, name: str) -> list[tuple[node_def_pb2.NodeDef, int]] | None:
    """Every node that reads the dense strings of node `name`, through shape ops, as long as
    each is a shape op or an element-wise op to numbers; None if any is not."""
    if body.returned(name):
        return None
    uses = []
    for node, index in body.consumers(name):
        if node.op in STRING_LAYOUT and index == 0:
            further = _string_uses(body, node.name)
            if further is None:
                return None
            uses += [(node, index), *further]
        elif (node.op in STRING_SHAPE and index == 0) or \
                (node.op in STRING_ELEMENTWISE and STRING_ELEMENTWISE[node.op][0] == index):
            uses.append((node, index))
        else:
            return None
    return uses


def _to_int32(body: _Body, tensor: str, dtype: int, name: str) -> str:
    if dtype == types_pb2.DT_INT32:
        return tensor
    return body.add(name, "Cast", [tensor], SrcT=_type(dtype), DstT=_type(types_pb2.DT_INT32),
                    Truncate=_bool(False))


def _positions(body: _Body, node: node_def_pb2.NodeDef) -> str:
    """int32 tensor of SparseToDense's output shape: 1 + the index in `values` of the entry at
    each place, 0 where there is none (the default)."""
    indices, shape, values = node.input[:3]
    index_type, name = _attr_type(node, "Tindices"), node.name
    shape = _to_int32(body, shape, index_type, f"{name}/shape_int32")
    indices = _to_int32(body, indices, index_type, f"{name}/indices_int32")
    rank = body.add(f"{name}/rank", "Shape", [shape], T=_type(types_pb2.DT_INT32),
                    out_type=_type(types_pb2.DT_INT32))
    # Scalar, [N] or [N, rank] indices (all that SparseToDense takes) as [N, rank].
    rows_shape = body.add(f"{name}/rows_shape", "ConcatV2",
                          [body.constant(f"{name}/any_rows", [-1], types_pb2.DT_INT32), rank,
                           body.constant(f"{name}/rows_axis", 0, types_pb2.DT_INT32)],
                          N=_int(2), T=_type(types_pb2.DT_INT32), Tidx=_type(types_pb2.DT_INT32))
    rows = body.add(f"{name}/index_rows", "Reshape", [indices, rows_shape],
                    T=_type(types_pb2.DT_INT32), Tshape=_type(types_pb2.DT_INT32))
    rows_and_rank = body.add(f"{name}/index_rows_shape", "Shape", [rows],
                             T=_type(types_pb2.DT_INT32), out_type=_type(types_pb2.DT_INT32))
    first = [body.constant(f"{name}/first_{part}", [value], types_pb2.DT_INT32)
             for part, value in (("begin", 0), ("end", 1), ("stride", 1))]
    count = body.add(f"{name}/entries", "StridedSlice", [rows_and_rank, *first],
                     T=_type(types_pb2.DT_INT32), Index=_type(types_pb2.DT_INT32),
                     begin_mask=_int(0), end_mask=_int(0), ellipsis_mask=_int(0),
                     new_axis_mask=_int(0), shrink_axis_mask=_int(1))
    one = body.constant(f"{name}/one", 1, types_pb2.DT_INT32)
    limit = body.add(f"{name}/entries_plus_one", "AddV2", [count, one],
                     T=_type(types_pb2.DT_INT32))
    ordinals = body.add(f"{name}/ordinals", "Range", [one, limit, one],
                        Tidx=_type(types_pb2.DT_INT32))
    # A scalar `values` is every entry's value: index 1 for all of them.
    value_count = body.add(f"{name}/value_count", "Size", [values],
                           T=_type(types_pb2.DT_STRING), out_type=_type(types_pb2.DT_INT32))
    ordinals = body.add(f"{name}/value_ordinals", "Minimum", [ordinals, value_count],
                        T=_type(types_pb2.DT_INT32))
    return body.add(f"{name}/positions", "ScatterNd", [rows, ordinals, shape],
                    T=_type(types_pb2.DT_INT32), Tindices=_type(types_pb2.DT_INT32))


def _rewrite_string_sparse_to_dense(body: _Body) -> tuple[int, int]:
    """(rewritten, left as they are) string SparseToDense nodes."""
    rewritten = left = 0
    for node in list(body.function.node_def):
        if node.op != "SparseToDense" or _attr_type(node, "T") != types_pb2.DT_STRING:
            continue
        uses = _string_uses(body, node.name)
        if uses is None:
            left += 1
            continue
        name, values, default = node.name, node.input[2], node.input[3]
        positions = {name: _positions(body, node)}
        flat = {part: body.add(f"{name}/{part}_vector", "Reshape",
                               [tensor, body.constant(f"{name}/{part}_vector_shape", [shape],
                                                      types_pb2.DT_INT32)],
                               T=_type(types_pb2.DT_STRING), Tshape=_type(types_pb2.DT_INT32))
                for part, tensor, shape in (("default", default, 1), ("values", values, -1))}
        for use, index in uses:  # each after the node it reads
            reads = positions[use.input[index].split(":")[0]]
            if use.op in STRING_LAYOUT or use.op in STRING_SHAPE:
                use.input[index] = reads
                use.attr["T"].type = types_pb2.DT_INT32
                positions[use.name] = f"{use.name}:{_output_name(use.op)}:0"
                continue
            _, output, output_type = STRING_ELEMENTWISE[use.op]
            dtype = output_type(use)
            parts = []
            for part in ("default", "values"):
                copy = body.copy(use, f"{use.name}/on_{part}")
                copy.input[index] = flat[part]
                parts.append(f"{copy.name}:{output}:0")
            joined = body.add(f"{use.name}/joined", "ConcatV2",
                              [*parts, body.constant(f"{use.name}/joined_axis", 0,
                                                     types_pb2.DT_INT32)],
                              N=_int(2), T=_type(dtype), Tidx=_type(types_pb2.DT_INT32))
            body.replace(use, "GatherV2",
                         [joined, reads, body.constant(f"{use.name}/gather_axis", 0,
                                                       types_pb2.DT_INT32)],
                         output, Tparams=_type(dtype),
                         Tindices=_type(types_pb2.DT_INT32), Taxis=_type(types_pb2.DT_INT32),
                         batch_dims=_int(0))
        body.function.node_def.remove(node)
        body.names.discard(name)
        rewritten += 1
    return rewritten, left


def _rewrite_dense_bincounts(body: _Body) -> int:
    """DenseBincount without weights (Keras' CategoryEncoding, tf.math.bincount on a dense
    tensor): per row, a one-hot of every id summed (or, for binary_output, maxed) over the ids.
    Ids outside [0, size) count nowhere in both."""
    rewritten = 0
    consts = {node.name: node for node in body.function.node_def if node.op == "Const"}
    for node in list(body.function.node_def):
        if node.op != "DenseBincount":
            continue
        weights = consts.get(node.input[2].split(":")[0])
        if weights is None or _elements(weights) != 0:
            continue  # weighted counts: left to Flex
        dtype, index_type, name = _attr_type(node, "T"), _attr_type(node, "Tidx"), node.name
        ids, size = node.input[0], node.input[1]
        int32 = types_pb2.DT_INT32
        if index_type != int32:
            size = body.add(f"{name}/depth", "Cast", [size], SrcT=_type(index_type),
                            DstT=_type(int32), Truncate=_bool(False))
        one_hot = body.add(f"{name}/one_hot", "OneHot",
                           [ids, size, body.constant(f"{name}/on", 1, dtype),
                            body.constant(f"{name}/off", 0, dtype)],
                           T=_type(dtype), TI=_type(index_type), axis=_int(-1))
        reduce = "Max" if node.attr["binary_output"].b else "Sum"
        body.replace(node, reduce, [one_hot, body.constant(f"{name}/ids_axis", -2, int32)],
                     "output", T=_type(dtype), Tidx=_type(int32), keep_dims=_bool(False))
        rewritten += 1
    return rewritten


def _elements(const: node_def_pb2.NodeDef) -> int:
    shape = [d.size for d in const.attr["value"].tensor.tensor_shape.dim]
    return int(np.prod(shape)) if shape else 1


def _rewrite_integer_selects(body: _Body) -> int:
    """SelectV2 on integers as arithmetic: t * c + e * (1 - c), c the condition as 0/1 (exact
    for every integer). Not a missing builtin but a TFLite bug: SELECT_V2 fed by a vocabulary
    look-up (tf.lookup.StaticVocabularyTable's out-of-vocabulary ids) is prepared with the wrong
    shape when a model's first call keeps its stored batch of one, as a phone app's does
    (TF 2.16: "REDUCE_MAX failed to prepare", or a crash)."""
    rewritten = 0
    for node in list(body.function.node_def):
        if node.op != "SelectV2" or _attr_type(node, "T") not in (types_pb2.DT_INT32,
                                                                   types_pb2.DT_INT64):
            continue
        dtype, name = _attr_type(node, "T"), node.name
        condition, then, otherwise = node.input[0], node.input[1], node.input[2]
        chosen = body.add(f"{name}/as_int", "Cast", [condition], SrcT=_type(types_pb2.DT_BOOL),
                          DstT=_type(dtype), Truncate=_bool(False))
        other = body.add(f"{name}/not_chosen", "Sub",
                         [body.constant(f"{name}/one", 1, dtype), chosen], T=_type(dtype))
        kept = body.add(f"{name}/then", "Mul", [then, chosen], T=_type(dtype))
        dropped = body.add(f"{name}/else", "Mul", [otherwise, other], T=_type(dtype))
        body.replace(node, "AddV2", [kept, dropped], "output", T=_type(dtype))
        rewritten += 1
    return rewritten


def rewrite_for_builtins(saved_model_dir: str) -> list[str]:
    """Rewrites `saved_model_dir`/saved_model.pb in place; returns one line per kind of rewrite
    applied (and per kind left for the Flex delegate), e.g.
    'SparseToDense (string) x3 -> ScatterNd+GatherV2 after its element-wise uses'."""
    path = os.path.join(saved_model_dir, "saved_model.pb")
    saved_model = saved_model_pb2.SavedModel()
    with open(path, "rb") as handle:
        saved_model.ParseFromString(handle.read())
    counts: collections.Counter = collections.Counter()
    for function in saved_model.meta_graphs[0].graph_def.library.function:
        body = _Body(function)
        # Hashes first: the one-bucket hash of dense strings becomes a Shape of them.
        counts["hash"] += _rewrite_one_bucket_hashes(body)
        counts["search"] += _rewrite_sorted_searches(body)
        rewritten, left = _rewrite_string_sparse_to_dense(body)
        counts["dense"] += rewritten
        counts["dense_left"] += left
        counts["bincount"] += _rewrite_dense_bincounts(body)
        counts["select"] += _rewrite_integer_selects(body)
    lines = [SUMMARIES[key].format(count) for key, count in counts.items() if count]
    if any(counts[key] for key in ("hash", "search", "dense", "bincount", "select")):
        with open(path, "wb") as handle:
            handle.write(saved_model.SerializeToString())
    return lines
