"""Settings: which store to open, where the demo lives.

The store is chosen by ``MINQING_DATABASE_URL`` in the environment, else by
``.streamlit/secrets.toml`` (a top-level ``MINQING_DATABASE_URL = "..."`` key,
else ``url`` in its ``[database]`` table; the file is read directly, so the
command line sees it too), else the embedded default
``sqlite:///data/minqing.sqlite`` (relative to the working directory).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from minqing.errors import ConfigError

ENV_KEY = "MINQING_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///data/minqing.sqlite"
SECRETS_FILE = Path(".streamlit") / "secrets.toml"
SCHEMES = ("sqlite", "postgresql")


def database_url(secrets_file: Path | str | None = None) -> str:
    """Return the database URL in force.

    Parameters
    ----------
    secrets_file : path, optional
        The Streamlit secrets file to read; defaults to ``.streamlit/secrets.toml``.

    Returns
    -------
    str
        ``sqlite:///relative/or/absolute/path`` or ``postgresql://...``.
    """
    url = os.environ.get(ENV_KEY, "").strip()
    if not url:
        url = _from_secrets(Path(secrets_file) if secrets_file else SECRETS_FILE)
    url = url or DEFAULT_DATABASE_URL
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in SCHEMES:
        from minqing.privacy import redact_url

        shown = redact_url(url)  # a password in the URL is never echoed
        raise ConfigError(
            f"{ENV_KEY}={shown!r} has scheme {scheme!r}; allowed: {', '.join(SCHEMES)}. "
            "Use e.g. sqlite:///data/minqing.sqlite",
            key="error.bad_url",
            url=shown,
        )
    return url


def setting(name: str, secrets_file: Path | str | None = None) -> str | None:
    """Return a setting from the environment, else from ``.streamlit/secrets.toml``, else None."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    path = Path(secrets_file) if secrets_file else SECRETS_FILE
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    return str(data.get(name, "")).strip() or None


def _from_secrets(path: Path) -> str:
    if not path.is_file():
        return ""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid TOML ({exc}); fix or remove it",
            key="error.bad_secrets",
            path=str(path),
        ) from exc
    url = str(data.get(ENV_KEY, "")).strip()
    table = data.get("database")
    if not url and isinstance(table, dict):
        url = str(table.get("url", "")).strip()
    return url


def sqlite_path(url: str) -> Path:
    """Return the file path of a ``sqlite:///`` URL (``sqlite:////abs`` for absolute)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        from minqing.privacy import redact_url

        shown = redact_url(url)
        raise ConfigError(f"not a sqlite URL: {shown!r}; expected {prefix}path", key="error.bad_url", url=shown)
    return Path(url[len(prefix):])


def geodata_dir() -> Path:
    """Return the folder with the demo city's layers (``MINQING_GEODATA`` overrides)."""
    env = os.environ.get("MINQING_GEODATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "geodata" / "grid.geojson").is_file():
            return parent / "geodata"
    return Path("geodata")
