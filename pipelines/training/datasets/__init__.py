"""Converters from public datasets to the import format (``docs/data-format.md``)."""
