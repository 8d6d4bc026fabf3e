"""The error every command prints as one line: no traceback, exit code 1."""

from __future__ import annotations

import click


class PlatformError(click.ClickException):
    """An expected failure: printed as one line naming the problem, exit code 1, no traceback."""

    def format_message(self) -> str:
        return self.message
