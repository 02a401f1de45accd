"""导入: upload a 12345 export, see the mapping and the first rows, import with a progress bar,
read the report (counts that add up), download the quarantined rows, see past imports."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from minqing.export.writer import to_csv_bytes
from minqing.geo.crs import CRS_NAMES
from minqing.htmlsafe import escape_markdown
from minqing.i18n import fmt_int, t
from minqing.export.tickets import quarantine_frame
from minqing.ingest.pipeline import ImportOptions, import_file, preview_file
from minqing.privacy import mask_text, mask_tickets
from minqing.ui.components import show_table
from minqing.ui.page import open_page
from minqing.ui.tables import ticket_table

TYPES = ["csv", "txt", "xlsx", "geojson", "json"]


def render() -> None:
    """Draw the page."""
    page = open_page("import", "ingest.heading", as_of=False)
    lg, user, store = page.lang, page.user, page.store

    upload = st.file_uploader(t("ingest.upload", lg), type=TYPES, key="import_file")
    c1, c2, c3 = st.columns(3)
    crs = c1.selectbox(t("ingest.crs", lg), CRS_NAMES, format_func=partial(_crs_label, lang=lg), key="import_crs")
    sheet = c2.text_input(t("ingest.sheet", lg), key="import_sheet").strip() or None
    mapping_upload = c3.file_uploader(t("ingest.mapping_upload", lg), type=["toml"], key="import_mapping")

    if upload is not None:
        with _saved(upload, mapping_upload) as (path, mapping_path):
            # In-process: forking the app server's process (it runs many threads) is unsafe.
            options = ImportOptions(crs=crs, sheet=sheet, user=user.name or user.role, workers=1,
                                    mapping_file=mapping_path)
            preview = preview_file(path, options, n=5)
            _show_preview(preview, lg)
            dry = st.checkbox(t("ingest.dry_run", lg), key="import_dry")
            if st.button(t("ingest.run", lg), type="primary", key="import_run"):
                bar = st.progress(0.0, text=t("ingest.progress", lg, stage=""))

                def progress(stage: str, frac: float) -> None:
                    bar.progress(min(max(float(frac), 0.0), 1.0), text=t("ingest.progress", lg, stage=stage))

                report = import_file(store, path, _with(options, dry_run=dry), progress)
                bar.progress(1.0, text=t("ingest.progress", lg, stage="✓"))
                st.session_state["import_report"] = report.to_dict()

    if "import_report" in st.session_state:
        _show_report(store, st.session_state["import_report"], user, lg)
    _history(store, lg)


@contextmanager
def _saved(upload, mapping_upload=None):
    """Write the uploaded file (and mapping file) to a private temporary folder for this run only.

    Yields the two paths (the mapping's None when there is none), keeping the
    names (the reader sniffs the content). The folder and its files go when the
    block ends, also on a failure or when Streamlit stops the run: uploads hold
    personal data and must not pile up in the temporary folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="minqing_upload_"))
    try:
        path = folder / (Path(upload.name).name or "upload")
        path.write_bytes(upload.getvalue())
        mapping_path = None
        if mapping_upload is not None:
            (folder / "mapping").mkdir()
            mapping_path = folder / "mapping" / (Path(mapping_upload.name).name or "mapping.toml")
            mapping_path.write_bytes(mapping_upload.getvalue())
        yield str(path), (str(mapping_path) if mapping_path is not None else None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _with(options: ImportOptions, **changes) -> ImportOptions:
    from dataclasses import replace

    return replace(options, **changes)


def _show_preview(preview, lg) -> None:
    st.subheader(t("ingest.mapping_title", lg))
    fields = preview.mapping.fields
    show_table(
        {t("ingest.mapping_field", lg): [_field_label(f, lg) for f in fields],
         t("ingest.mapping_column", lg): list(fields.values())},
        hide_index=True,
    )
    if preview.mapping.unknown:
        st.caption(t("ingest.kept_columns", lg, columns=escape_markdown("、".join(map(str, preview.mapping.unknown)))))
    st.subheader(t("ingest.preview_title", lg))
    if len(preview.tickets):
        # the first rows as they will be stored; personal data masked, text shown as text
        ticket_table(mask_tickets(_complete(preview.tickets)), lg, key="import_preview")


def _complete(tickets: pd.DataFrame) -> pd.DataFrame:
    from minqing.model import TICKET_COLUMNS

    out = tickets.copy()
    for col in TICKET_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    for col in ("received_at", "due_at", "closed_at"):
        out[col] = pd.to_datetime(out[col])
    return out


def _show_report(store, report: dict, user, lg) -> None:
    st.subheader(t("ingest.report_title", lg))
    counts = {k: fmt_int(report.get(k, 0), lg) for k in
              ("rows_read", "inserted", "updated", "unchanged", "quarantined", "duplicates")}
    st.markdown("**" + t("ingest.report_counts", lg, read=counts["rows_read"], inserted=counts["inserted"],
                         updated=counts["updated"], unchanged=counts["unchanged"],
                         quarantined=counts["quarantined"], duplicates=counts["duplicates"]) + "**")
    st.caption(t("ingest.report_location", lg, address=fmt_int(report.get("located_by_address", 0), lg),
                 unlocated=fmt_int(report.get("unlocated", 0), lg), linked=fmt_int(report.get("linked", 0), lg)))
    if report.get("dry_run"):
        st.info(t("ingest.dry_run_done", lg))
    for title, key, prefix in (("ingest.reasons_title", "reasons", "reason"), ("ingest.warnings_title", "warnings", "warning")):
        items = report.get(key) or {}
        if items:
            st.markdown(f"**{t(title, lg)}**")
            show_table(
                {t("ingest.col_reason", lg): [t(f"ingest.{prefix}_{code}", lg) for code in items],
                 t("ingest.col_rows", lg): [fmt_int(n, lg) for n in items.values()]},
                hide_index=True,
            )
    for note in report.get("notes") or []:  # a workbook read from a later sheet than its first: say which
        if str(note).startswith("sheet_read:"):
            st.caption(t("ingest.report_sheet_read", lg, sheet=escape_markdown(str(note)[len("sheet_read:"):])))
    if report.get("date_order"):
        order = report["date_order"]
        named = t(f"ingest.date_order_{order}", lg) if order in ("YMD", "DMY", "MDY") else escape_markdown(order)
        st.caption(t("ingest.report_date_order", lg, order=named))
    unreadable = report.get("unreadable") or {}
    if unreadable:  # optional times that could not be read: stored blank, the raw text kept in extra
        examples = report.get("unreadable_examples") or {}
        st.markdown(f"**{t('ingest.unreadable_title', lg)}**")
        show_table(
            {t("ingest.unreadable_field", lg): [_field_label(str(k), lg) for k in unreadable],
             t("ingest.unreadable_count", lg): [fmt_int(n, lg) for n in unreadable.values()],
             t("ingest.unreadable_example", lg): [mask_text(str(examples.get(k) or "")) or ""  # a table cell: text, not markdown
                                                  for k in unreadable]},
            hide_index=True,
        )
    unknown = report.get("unknown_values") or {}
    if unknown:  # what a value map could add, most frequent first (a table cell: text, not markdown)
        st.markdown(f"**{t('ingest.unknown_title', lg)}**")
        rows = [(f, v, n) for f, values in unknown.items() for v, n in values.items()]
        show_table(
            {t("ingest.unknown_field", lg): [_field_label(str(r[0]), lg) for r in rows],
             t("ingest.unknown_value", lg): [mask_text(str(r[1])) for r in rows],
             t("ingest.unknown_count", lg): [fmt_int(r[2], lg) for r in rows]},
            hide_index=True,
        )
    if report.get("quarantined") and not report.get("dry_run"):
        st.download_button(
            t("ingest.download_quarantine", lg),
            partial(_quarantine_csv, store, report["import_id"], not user.sees_personal_data, user.name),
            file_name=f"quarantine_{report['import_id']}.csv", mime="text/csv", key="import_quarantine_csv",
            on_click="ignore",
        )


def _quarantine_csv(store, import_id: str, masked: bool, actor: str = "") -> bytes:
    """The quarantined rows: original columns plus the reason, ready to fix and re-import."""
    from minqing.audit import audit

    frame = quarantine_frame(store, import_id, include_resolved=True, masked=masked)
    audit(store, actor or "app", "export", target=f"quarantine:{import_id}", rows=len(frame), masked=masked)
    return to_csv_bytes(frame)


def _history(store, lg) -> None:
    st.subheader(t("ingest.history_title", lg))
    reports = store.read_import_reports()
    if not reports:
        st.caption(t("ingest.no_imports", lg))
        return
    show_table(
        {
            t("ingest.col_file", lg): [r["file"] for r in reports],
            t("ingest.col_when", lg): [str(r.get("started_at", ""))[:16].replace("T", " ") for r in reports],
            t("ingest.col_read", lg): [r["rows_read"] for r in reports],
            t("ingest.col_inserted", lg): [r["inserted"] for r in reports],
            t("ingest.col_updated", lg): [r["updated"] for r in reports],
            t("ingest.col_quarantined", lg): [r["quarantined"] for r in reports],
        },
        hide_index=True,
    )


def _field_label(field: str, lang: str) -> str:
    """A ticket field as people call it: the app's own column label, else the usual Chinese header."""
    from minqing.ingest.aliases import APP_EXPORT_HEADERS, HEADER_ALIASES

    if field in APP_EXPORT_HEADERS:
        return t(f"tickets.{APP_EXPORT_HEADERS[field]}", lang)
    if lang == "zh" and HEADER_ALIASES.get(field):
        return HEADER_ALIASES[field][0]
    return field.replace("_", " ").capitalize()


def _crs_label(crs: str, lang: str) -> str:
    return t(f"ingest.crs_{crs}", lang)
