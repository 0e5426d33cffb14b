"""Stacks: multi-service applications from Compose files."""
