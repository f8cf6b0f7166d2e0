"""Documents and retrieval: parse (txt, markdown, HTML, PDF), chunk by tokens, embed, index per
tenant, and search top-k with each chunk's title, page and score.

The steps are plain async services (`ingest.Ingestion`) that background jobs wrap thinly; the
HTTP surface (`api/documents_routes.py`, `api/rag_routes.py`) and the evaluation runner use the
same objects, built once from Settings (`build.RagServices`).
"""
