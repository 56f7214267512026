"""Tuning datasets: read (JSONL, JSON, CSV, Parquet), recognise or map the shape, validate, find
duplicates and near-duplicates, split without leaks, and report.

    report = validate_dataset("data.csv", FieldMapping(prompt_field="question", completion_field="query"))
    if not report.ok: print(*report.error_lines(), sep="\\n")
"""
from tuning.data.load import load_examples
from tuning.data.report import DatasetReport
from tuning.data.schemas import Example, FieldMapping, LoadedDataset, Message, Problem
from tuning.data.shapes import SHAPES
from tuning.data.split import split_examples
from tuning.data.validate import PreparedDataset, prepare_dataset, validate_dataset

__all__ = [
    "SHAPES",
    "DatasetReport",
    "Example",
    "FieldMapping",
    "LoadedDataset",
    "Message",
    "PreparedDataset",
    "Problem",
    "load_examples",
    "prepare_dataset",
    "split_examples",
    "validate_dataset",
]
