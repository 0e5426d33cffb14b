"""Use cases. They flush; the caller (request dependency or worker unit) commits."""
