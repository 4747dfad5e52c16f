"""Errors raised by the expression languages."""

from __future__ import annotations

__all__ = ["ExpressionError"]


class ExpressionError(ValueError):
    """A ``${...}`` expression or path does not parse."""
