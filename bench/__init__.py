"""Benchmarks, each runnable with one command (see docs/benchmarks.md)."""
