"""The project's own exception types: every failure a user can cause is one of these."""

from __future__ import annotations


class LineageError(Exception):
    """Base class: a failure with a message meant for the user."""


class ConfigError(LineageError):
    """lineage.yaml is missing, malformed or has an unknown key (message names file:line)."""


class RenderError(LineageError):
    """A Jinja template could not be rendered (syntax error or undefined variable)."""

    def __init__(self, message: str, *, line: int | None = None, variable: str | None = None):
        super().__init__(message)
        self.line = line
        self.variable = variable


class DocumentError(LineageError):
    """A lineage/health document is truncated, invalid or of an unsupported version."""


class UsageError(LineageError):
    """The command line asks for something impossible (exit code 2)."""
