"""AnomaliesGate: stops the run when ExampleValidator found anomalies, before anything is trained."""

from components.anomalies_gate.component import AnomaliesGate

__all__ = ["AnomaliesGate"]
