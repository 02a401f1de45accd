"""Unexpected errors: log them without personal data and hand back a short reference.

The command line and the app's error boundary both call :func:`log_unexpected`:
the user sees a reference such as ``3f9a0c1e`` and where the administrator finds
it; the log holds the exception's type, its frames (file, line, function) and
its message with phone and ID numbers masked (:func:`minqing.privacy.mask_text`)
and cut short. Never the frames' local variables and never the source lines:
both can hold ticket text.

The log file is ``MINQING_LOG_FILE`` (environment or ``.streamlit/secrets.toml``),
else ``minqing.log`` beside the SQLite store (``data/minqing.log`` by default);
when that cannot be written, ``minqing.log`` in the temporary folder, and as a
last resort the standard error stream.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
import tempfile
import threading
import traceback
from pathlib import Path

LOGGER = "minqing"
LOG_ENV = "MINQING_LOG_FILE"
LOG_NAME = "minqing.log"
MAX_MESSAGE = 300
"""Characters of an exception's (masked) message kept in the log."""
MAX_FRAMES = 40
"""Frames logged per exception (the first 10 and the last ones; a RecursionError has a thousand)."""
MAX_CHAIN = 5

log = logging.getLogger(LOGGER)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_QUOTED = re.compile(r"""(['"])(?:(?!\1).){1,}?\1""")
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]+")
_state: dict = {"path": None, "handler": None}
_lock = threading.Lock()  # the app's sessions run in threads


class _QuietFileHandler(logging.FileHandler):
    """A file handler that never prints a traceback of its own (e.g. on a full disk)."""

    def handleError(self, record):
        pass


def log_path(store_url: str | None = None) -> Path:
    """Return the log file in force (see the module docstring).

    Parameters
    ----------
    store_url : str, optional
        The store URL given on the command line; defaults to the settings.
    """
    from minqing.config import database_url, setting, sqlite_path

    configured = setting(LOG_ENV)
    if configured:
        return Path(configured)
    try:
        url = store_url or database_url()
        if url.startswith("sqlite:"):
            return sqlite_path(url).parent / LOG_NAME
    except Exception:  # noqa: BLE001, S110 - a bad setting must not stop the error from being logged
        pass
    return Path("data") / LOG_NAME


def _handler(store_url: str | None) -> str:
    """Attach (once) a handler to the ``minqing`` logger; return where records go."""
    wanted = log_path(store_url)
    for candidate in (wanted, Path(tempfile.gettempdir()) / LOG_NAME):
        key = str(candidate.absolute())
        if _state["path"] == key:
            return key
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            handler = _QuietFileHandler(candidate, encoding="utf-8")
        except OSError:
            continue
        _swap(handler, key)
        return key
    if _state["path"] != "stderr":
        _swap(logging.StreamHandler(sys.stderr), "stderr")
    return "stderr"


def _swap(handler: logging.Handler, key: str) -> None:
    old = _state["handler"]
    if old is not None:
        log.removeHandler(old)
        old.close()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.ERROR)
    log.addHandler(handler)
    _state.update(path=key, handler=handler)


def safe_message(exc: BaseException) -> str:
    """Return an exception's message fit for a log: numbers masked, quoted values and Chinese text dropped, one line."""
    from minqing.privacy import mask_text

    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__
        return "<message unavailable>"
    if len(text) > 4 * MAX_MESSAGE:  # mask only what is kept (masking is not free on huge texts)
        text = text[: 4 * MAX_MESSAGE]
    try:
        text = mask_text(text) or ""
    except Exception:  # noqa: BLE001 - if masking fails, log nothing of the message
        return "<message withheld>"
    # values quoted in a message (KeyError('张三'), "invalid literal ...: '...'") and any Chinese text
    # come from the data, never from the code: keep the message's shape, not the values
    text = _QUOTED.sub(r"\1…\1", text)
    text = _CJK.sub("…", text)
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def describe(exc: BaseException) -> list[str]:
    """Return log lines for an exception and its causes: type, masked message, frames (no locals, no source)."""
    chain, seen = [], set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen and len(chain) < MAX_CHAIN:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ if e.__cause__ is not None else (None if e.__suppress_context__ else e.__context__)
    lines = []
    for i, e in enumerate(chain):
        kind = f"{type(e).__module__}.{type(e).__qualname__}"
        lines.append(f"{'caused by ' if i else ''}{kind}: {safe_message(e)}")
        frames = [(f.f_code.co_filename, lineno, f.f_code.co_name) for f, lineno in traceback.walk_tb(e.__traceback__)]
        if len(frames) > MAX_FRAMES:
            head, tail = frames[:10], frames[-(MAX_FRAMES - 10):]
            frames = head + [("...", len(frames) - MAX_FRAMES, "frames omitted")] + tail
        for filename, lineno, name in frames:
            lines.append(f'  File "{filename}", line {lineno}, in {name}')
    return lines


def new_reference() -> str:
    """Return a short random reference (8 hexadecimal characters)."""
    return secrets.token_hex(4)


def log_unexpected(exc: BaseException, where: str = "", store_url: str | None = None) -> tuple[str, str]:
    """Log an unexpected exception without personal data; return its reference and where it was logged.

    Parameters
    ----------
    exc : BaseException
    where : str
        Where it happened (``cli import``, ``app``), logged with it.
    store_url : str, optional
        The store in use (the log goes beside a SQLite store).

    Returns
    -------
    ref : str
        8 hexadecimal characters to quote to the administrator.
    path : str
        The log file (or ``stderr``).
    """
    ref = new_reference()
    try:
        with _lock:
            path = _handler(store_url)
        log.error("unexpected error %s in %s (pid %s)\n%s", ref, where or "-", os.getpid(), "\n".join(describe(exc)))
    except Exception:  # noqa: BLE001 - reporting an error must never raise another one
        path = "stderr"
    return ref, path


__all__ = ["LOG_ENV", "describe", "log_path", "log_unexpected", "new_reference", "safe_message"]
