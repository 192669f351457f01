"""The boards' output: result schema 1 (SCHEMA.md), its one parser (schema.py) and its terminal lines
(format.py)."""

from host_tools.results.format import explain, format_event, format_result, is_fragment, report_other_line
from host_tools.results.schema import (
    SCHEMA_VERSION,
    ConfigChange,
    Crop,
    Decision,
    Event,
    Hysteresis,
    Result,
    SchemaError,
    Smoothing,
    Timings,
    Vote,
    parse_line,
    parse_result,
)

__all__ = [
    "SCHEMA_VERSION", "ConfigChange", "Crop", "Decision", "Event", "Hysteresis", "Result", "SchemaError",
    "Smoothing", "Timings", "Vote", "explain", "format_event", "format_result", "is_fragment", "parse_line",
    "parse_result", "report_other_line",
]
