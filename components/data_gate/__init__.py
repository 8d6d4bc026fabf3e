"""DataGate: stops the run before Transform when the span broke the schema or drifted from the
span of the model in production."""

from components.data_gate.component import DataGate

__all__ = ["DataGate"]
