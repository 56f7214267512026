"""Errors the estimator raises for bad input; messages name the field and what is allowed."""


class EstimatorError(ValueError):
    """Bad estimator input: an unknown model or GPU, a config.json missing fields, ..."""
