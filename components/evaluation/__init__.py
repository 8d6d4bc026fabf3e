"""The platform's Evaluator: TFX's, with `max_examples` for TFLite evaluations (component.py), its
executor (no-baseline and self-baseline cases, several candidates in one pass, the sample), the
EvalConfigs of the gate and the UDF module that points TFMA at each TFLite variant."""
