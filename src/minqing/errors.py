"""Exceptions raised by Minqing Map.

Every error the user can cause derives from :class:`MinqingError`.  Each
carries a message key and parameters so the UI can show it in the user's
language (see :mod:`minqing.i18n`); ``str(err)`` is the English text for logs
and the command line.
"""

from __future__ import annotations


class MinqingError(Exception):
    """Base class of every error Minqing Map raises on purpose.

    Parameters
    ----------
    message : str
        English message naming the bad value, the allowed values and the fix.
    key : str, optional
        Message-catalog key for the translated text shown in the UI.
    **params
        Values interpolated into the translated text.
    """

    key = "error.generic"

    def __init__(self, message: str, *, key: str | None = None, **params):
        super().__init__(message)
        if key is not None:
            self.key = key
        self.params = params

    def __reduce__(self):
        # keep the key and parameters when the error travels from a worker process
        return (_rebuild, (type(self), str(self), self.key, dict(self.params)))


def _rebuild(cls, message, key, params):
    return cls(message, key=key, **params)


class ConfigError(MinqingError, ValueError):
    """A setting (database URL, secrets file, option) is invalid."""

    key = "error.config"


class StoreError(MinqingError):
    """The store cannot be opened, migrated or written."""

    key = "error.store"


class SchemaVersionError(StoreError):
    """The store was written by a newer version of Minqing Map."""

    key = "error.schema_version"


class GeodataError(MinqingError, ValueError):
    """A geographic layer is missing, malformed or inconsistent."""

    key = "error.geodata"


class CRSError(MinqingError, ValueError):
    """An unknown coordinate reference system was named."""

    key = "error.crs"


class StoreReadOnlyError(StoreError):
    """The store file or its folder cannot be written (``attempt to write a readonly database``)."""

    key = "error.store_readonly"


class StoreFullError(StoreError):
    """The disk holding the store (or its temporary files) is full."""

    key = "error.store_full"


class StoreLockedError(StoreError):
    """Another program holds the store's write lock for too long."""

    key = "error.store_locked"


class StoreCorruptError(StoreError):
    """The store file is not an SQLite database or is damaged."""

    key = "error.store_corrupt"


class IngestError(MinqingError, ValueError):
    """A file cannot be imported at all (unreadable, wrong format, bad mapping)."""

    key = "ingest.error_generic"


class ImportBusyError(IngestError):
    """Another import into the same store is still running."""

    key = "ingest.error_busy"
