"""Load check run in a subprocess: `python -m components.pusher.load_check SAVED_MODEL EXAMPLES`.

Loads the SavedModel and calls its `serving_default` signature with serialized tf.Examples — the
request TF Serving's REST `:predict` carries — and checks that every example gets a finite answer.
Exit 0 on success; otherwise one line on stderr and exit 1.
"""

import sys

MAX_EXAMPLES = 32


def main(saved_model_dir: str, examples_pattern: str) -> None:
    import numpy as np
    import tensorflow as tf

    files = sorted(tf.io.gfile.glob(examples_pattern)) if examples_pattern else []
    if not files:
        raise ValueError(f"no eval examples match {examples_pattern!r}")
    compression = "GZIP" if files[0].endswith(".gz") else ""
    examples = list(tf.data.TFRecordDataset(files, compression_type=compression)
                    .take(MAX_EXAMPLES).as_numpy_iterator())
    model = tf.saved_model.load(saved_model_dir)
    if "serving_default" not in model.signatures:
        raise ValueError("the SavedModel has no serving_default signature")
    serving = model.signatures["serving_default"]
    inputs = serving.structured_input_signature[1]
    (name, spec), = inputs.items() if len(inputs) == 1 else [(None, None)]
    if spec is None or spec.dtype != tf.string:
        raise ValueError("serving_default must take one tensor of serialized tf.Examples (TF "
                         f"Serving's :predict request), it takes {sorted(inputs)}")
    outputs = serving(**{name: tf.constant(examples)})
    for name, value in outputs.items():
        value = value.numpy()
        if value.shape[0] != len(examples):
            raise ValueError(
                f"output '{name}' has {value.shape[0]} rows for {len(examples)} examples")
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise ValueError(f"output '{name}' is not finite")
    print(f"load check passed: {len(examples)} examples, outputs {sorted(outputs)}")


if __name__ == "__main__":
    try:
        main(*sys.argv[1:3])
    except Exception as err:  # reported as one line to the parent process
        print(f"{type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        sys.exit(1)
