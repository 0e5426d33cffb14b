"""Apply Alembic migrations: the only way Moorage's schema is made."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations


def alembic_config() -> Config:
    # Built in code so an installed package (the Docker image) needs no alembic.ini.
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def upgrade_to_head() -> None:
    command.upgrade(alembic_config(), "head")
