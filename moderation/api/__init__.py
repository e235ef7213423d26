"""HTTP adapters: the ingest and review API and the review console (FastAPI)."""
