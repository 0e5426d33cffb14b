"""Moorage: a desired-state control plane for Docker hosts."""
