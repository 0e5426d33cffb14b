"""Celery workers: thin tasks around app.services."""
