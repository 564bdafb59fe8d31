"""Ingestion: loading sources, cleaning, chunking and storing them in Chroma."""
