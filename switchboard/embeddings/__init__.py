"""Text embeddings for the semantic cache, the router and RAG: one `Embedder` protocol."""
