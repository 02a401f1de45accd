"""Errors and row-level reasons of the importer.

A file-level problem (cannot be read at all) raises an
:class:`minqing.errors.IngestError` (or one of the subclasses here) and nothing
is written. A row-level problem quarantines the row with one of
the :data:`REASONS` codes; its text in both languages lives in the
``[ingest]`` catalog table as ``ingest.reason_<code>``.
"""

from __future__ import annotations

from minqing.errors import IngestError


class ReadError(IngestError):
    """The file cannot be read (truncated, not what its extension says, unknown format)."""

    key = "ingest.error_read"


class MappingError(IngestError):
    """The column mapping is invalid or misses a required field."""

    key = "ingest.error_mapping"


#: Row-level quarantine reasons (code -> English text with the fix).
REASONS = {
    "missing_id": "the work-order id (工单编号) is empty; fill it in",
    "summary_row": "this is a report's summary row (合计, 总计, Total), not a work order",
    "id_scientific": "the work-order id is in scientific notation (2.02504E+17): Excel stored it as a number and its "
                     "last digits are lost; format the id column as text and export again",
    "repeated_header": "this row repeats the header (two exports pasted together), it is not a work order",
    "missing_time": "the received time (受理时间) is empty; fill it in",
    "bad_time": "a time could not be read; use e.g. 2025-04-03 14:05",
    "time_before_earliest": "a time is before the earliest accepted time (the earliest option); check the year",
    "time_before_2000": "a time is before 2000-01-01; check the year",  # earlier versions' code, kept for stored rows
    "time_in_future": "a time is in the future; check the date and the time zone",
    "zero_coordinates": "the coordinates are 0,0; correct them or leave them blank to match the address",
    "outside_region": "the point lies outside the loaded districts; check the coordinates and the coordinate system",
    "duplicate_id_conflict": "the same work-order id appears more than once with different content; keep one row",
    "bad_crs": "the coordinate system is unknown; use WGS84, GCJ02 or BD09",
    "formula_no_value": "the id or received time is a formula with no saved value; open the file in Excel or WPS, "
                        "save it and import it again",
    "not_a_record": "this JSON item is not an object with fields (it is a number, text or a list); make it an object",
}

#: Warnings: the row is stored, but the report counts and explains it.
WARNINGS = {
    "swapped_lat_lon": "longitude and latitude were swapped and have been fixed",
    "invalid_coordinates": "the coordinates were not numbers (blank, NaN, inf); the address was used instead",
    "far_from_address": "the point is far from the place its address names; the coordinate system may be wrong",
    "address_matched": "located by matching the address against the gazetteer",
    "unlocated": "no coordinates and no confident address match; stored without a location",
    "unknown_channel": "unknown channel value, stored as 'other'",
    "unknown_kind": "unknown kind value, stored as 'other'",
    "unknown_category": "unknown category, stored as 'other'",
    "unknown_satisfaction": "unknown satisfaction value, stored as empty",
    "mixed_encoding": "the line was in a different text encoding than the rest of the file",
    "text_truncated": "a very long text field was cut to the maximum length",
    "time_before_1990": "a time is before 1990; stored, but check the year",
    "formula_no_value": "formula cells with no saved value were imported blank; open the file in Excel or WPS, "
                        "save it and import it again",
    "title_rows": "rows above the header (the report title, the export time) are not work orders and were skipped",
}
