"""One exception root for Legato, with structured fields; the API maps them to HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One validation problem: where (a path such as `tasks[2].taskReferenceName`) and why."""

    path: str
    message: str
    invalid_value: object = None


class LegatoError(Exception):
    """Root of every error Legato raises on purpose."""

    http_status = 500
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(LegatoError):
    """The request or definition is malformed; carries every problem found."""

    http_status = 400

    def __init__(self, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class NotFoundError(LegatoError):
    http_status = 404


class ConflictError(LegatoError):
    """The request conflicts with current state (exists already, wrong status, ...)."""

    http_status = 409


class PayloadTooLargeError(LegatoError):
    http_status = 413


class StorageError(LegatoError):
    """The database failed or is unreachable."""

    http_status = 503
    retryable = True


class RevisionConflict(StorageError):
    """A workflow changed under a decision (optimistic concurrency); the caller re-decides."""

    http_status = 409


class IdempotencyRace(RevisionConflict):
    """A start with an idempotency key lost a race with a start of the same key on another
    node; the caller checks the key again."""
