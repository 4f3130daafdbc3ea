"""The error hierarchy every LineWatch package shares.

Foreign exceptions are wrapped (``raise ContractError(...) from exc``) so callers catch
one root type and never see a library's internals.
"""

from __future__ import annotations


class LineWatchError(Exception):
    """Root of every error LineWatch raises on purpose."""


class ContractError(LineWatchError):
    """A message does not satisfy its topic's contract (bad JSON, wrong schema, bad value)."""


class ConfigError(LineWatchError):
    """A settings value, plant file or mapping file is invalid; the message names the field."""


class BrokerError(LineWatchError):
    """The Kafka broker could not be installed, started, reached or stopped."""
