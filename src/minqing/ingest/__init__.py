"""Import of real hotline exports: readers, column mapping, times, coordinates, quarantine.

The public entry point is :func:`minqing.ingest.pipeline.import_file`; it
returns an :class:`~minqing.ingest.tally.ImportReport` whose counts
reconcile (rows read = inserted + updated + unchanged + quarantined + duplicates).
"""
