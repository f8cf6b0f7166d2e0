"""Metrics, events and logs: subscribers to what the pipeline reports."""
