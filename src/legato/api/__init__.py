"""The HTTP layer: Conductor's REST API under `/api` (FastAPI), built by `create_app`."""
