"""Not a component: what the platform gives TFX's stock Evaluator (its executor, the EvalConfigs
of the gate, the UDF module that points TFMA at each TFLite variant)."""
