"""BlessingGate: one ModelBlessing that is blessed only when every Evaluator blessed the model."""

from components.blessing_gate.component import BlessingGate

__all__ = ["BlessingGate"]
