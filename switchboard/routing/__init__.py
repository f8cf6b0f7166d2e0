"""Routing: which deployment serves a request (balancer, health, breaker, retry) and, for router
models, which tier of model it needs (complexity)."""
