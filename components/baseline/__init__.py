"""The baseline a candidate is gated against: the model in production now, read from where the
Pusher publishes (no ML Metadata query, so it works the same locally, on open-source KFP and on
Vertex). See production.py."""
