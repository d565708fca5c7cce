"""The HTTP edge: middlewares, body parsing, authentication, health and metrics."""
