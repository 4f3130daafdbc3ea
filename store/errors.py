"""Errors the store raises. The API maps each class to an HTTP status (``services.api.errors``)."""

from __future__ import annotations

from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError

from contracts.errors import LineWatchError

# The database library's own errors, for callers that map them (the API's handlers) without
# importing SQLAlchemy themselves: a value the column refuses, a duplicate or missing
# reference, the database unreachable, and the base of all of them.
__all__ = ["Conflict", "DataError", "IntegrityError", "Invalid", "NotFound", "OperationalError", "RecordError",
           "SQLAlchemyError", "StoreError"]


class StoreError(LineWatchError):
    """The store could not be opened, migrated, read or written."""


class RecordError(LineWatchError):
    """A request the stored records refuse (the caller's fault, not the store's)."""


class Invalid(RecordError):
    """A value the records cannot take (e.g. a shelve time in the past)."""


class NotFound(RecordError):
    """No record with that key."""


class Conflict(RecordError):
    """The record's state forbids the change (e.g. already resolved)."""
