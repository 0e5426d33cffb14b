"""The HTTP contract (pydantic). Kept apart from the ORM tables on purpose."""
