"""The client half of the ``moorage`` command: commands that drive a Moorage API over
HTTP, through the generated client, and never touch its database (import-linter keeps
it so). ``register`` adds them to the root command in app/cli.py."""

from app.cli_client.commands import PANEL, Settings, register
from app.cli_client.errors import CliError, Exit

__all__ = ["PANEL", "CliError", "Exit", "Settings", "register"]
