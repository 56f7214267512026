"""Errors the model plumbing raises for bad input; messages say which model and how to fix it."""


class ModelError(ValueError):
    """A model that cannot be named, pulled, found or loaded; the message says which and how to fix it."""
