"""Nearest-neighbour indexes over unit vectors: embedded (in-process HNSW) and Redis."""
