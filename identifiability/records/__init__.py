"""Results as records: one schema for a run's JSON row and the names of its numbers (``schema``), the
locked JSON-lines store (``store``), and records read as tables (``tables``)."""

from .schema import CODE, FAILED, METRICS, OK, failed_record, number_names, ok_record, path_of, value_of
from .store import ResultsFile, Store
from .tables import beside, format_table, summarise, to_csv

__all__ = [
    "CODE",
    "FAILED",
    "METRICS",
    "OK",
    "ResultsFile",
    "Store",
    "beside",
    "failed_record",
    "format_table",
    "number_names",
    "ok_record",
    "path_of",
    "summarise",
    "to_csv",
    "value_of",
]
