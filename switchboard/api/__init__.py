"""The HTTP surface only: parse, hand to the pipeline, render JSON / SSE / WebSocket."""
