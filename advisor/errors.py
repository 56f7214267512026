"""Errors the advisor raises for bad input; messages name the field or file and how to fix it."""


class AdvisorError(ValueError):
    """Bad advisor input: a malformed answers file, an answers file that is not an object, ..."""
