"""A throwaway PostgreSQL + PostGIS server for the tests, started and stopped by the test session.

The cluster lives under ``test-artifacts/pg/`` in the repository (a temporary
folder when the server's user can't reach that one), listens on 127.0.0.1 on
a free port and on a Unix socket in its own folder, trusts local connections
and runs with ``fsync`` off: it holds nothing worth keeping. ``initdb`` refuses
to run as root, so as root the server runs as the unprivileged ``postgres``
user (``runuser -u postgres --``). The programs come from Debian's packages
(``scripts/ensure_postgres.sh`` installs them); ``MINQING_PG_BINDIR`` names
another folder of PostgreSQL programs.

Where no server can run (no programs, no PostGIS, no ``postgres`` user), the
tests that need one skip with a reason that names what is missing, and the
terminal summary says so (:func:`summary_line`); with ``MINQING_PG_REQUIRED=1``
they fail instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "pg"
SUPERUSER = "postgres"
DATABASE = "minqing_test"
TEMPLATE = "minqing_template"
"""A database with PostGIS that :meth:`PgServer.create_database` copies (fast: no ``CREATE EXTENSION`` each time)."""

_SETTINGS = {  # a throwaway server: speed over durability
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "40",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
}
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes, less "/.s.PGSQL.NNNNN"


class PgUnavailable(RuntimeError):
    """No PostgreSQL + PostGIS server can run here; the message says what is missing."""


@dataclass
class _State:
    """What this session's PostGIS tests did, for the terminal summary."""

    server: PgServer | None = None
    skipped: str | None = None


STATE = _State()


def find_bindir() -> Path:
    """Return the folder of the PostgreSQL server programs (the newest of Debian's, or ``MINQING_PG_BINDIR``)."""
    env = os.environ.get("MINQING_PG_BINDIR")
    candidates = [Path(env)] if env else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True
    )
    if not env and shutil.which("pg_ctl"):
        candidates.append(Path(shutil.which("pg_ctl")).parent)
    for path in candidates:
        if all((path / prog).is_file() for prog in ("postgres", "initdb", "pg_ctl")):
            return path
    raise PgUnavailable(
        "no PostgreSQL server programs (initdb, pg_ctl, postgres) in "
        + (env if env else "/usr/lib/postgresql/*/bin or on PATH")
        + "; run `bash scripts/ensure_postgres.sh` as root"
    )


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


def _sharedir(bindir: Path) -> Path:
    """Return the server's share folder (where ``extension/postgis.control`` lives)."""
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    return Path("/usr/share/postgresql") / bindir.parent.name


def _run_as() -> list[str]:
    """Return the command prefix that runs a program as the server's user (root can't run ``initdb``)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PgUnavailable(
            f"running as root and there is no unprivileged {SUPERUSER!r} user to run the server as "
            "(initdb refuses root); Debian's postgresql package creates it"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PgUnavailable("running as root and `runuser` is missing, so the server can't run as 'postgres'")
    return [runuser, "-u", SUPERUSER, "--"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _own(path: Path) -> None:
    """Give ``path`` to the server's user (as root), readable by nobody else."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SUPERUSER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)


@dataclass
class PgServer:
    """A running throwaway cluster.

    Parameters
    ----------
    bindir : Path
        The PostgreSQL programs.
    run_dir : Path
        The cluster's folder: ``data/``, ``server.log`` and the Unix socket.
    prefix : list of str
        How to run a program as the server's user (``runuser -u postgres --`` as root).
    """

    bindir: Path
    run_dir: Path
    prefix: list[str]
    port: int = 0
    socket_dir: str = ""
    started_in: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    database: str = DATABASE

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "server.log"

    def url(self, dbname: str | None = None) -> str:
        """Return the superuser's URL of database ``dbname`` (the session's database by default)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname or self.database}"

    def _tool(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [*self.prefix, str(self.bindir / args[0]), *args[1:]],
            cwd=self.run_dir, capture_output=True, text=True, timeout=timeout, check=False,
        )
        if check and proc.returncode != 0:
            raise PgUnavailable(f"{args[0]} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-800:]}")
        return proc

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace").strip()[-800:]
        except OSError:
            return ""

    def init(self) -> None:
        """Create the cluster: UTF-8, C collation (byte order, as SQLite compares text), trust on 127.0.0.1."""
        self._tool("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                   "--locale=C", "--no-sync", "--no-instructions")
        sock = str(self.run_dir)
        self.socket_dir = sock if len(sock) < _SOCKET_PATH_MAX else ""
        settings = dict(_SETTINGS, listen_addresses="127.0.0.1", unix_socket_directories=self.socket_dir)
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/pg_server.py\n")
            conf.writelines(f"{k} = '{v}'\n" for k, v in settings.items())

    def start(self, tries: int = 3) -> None:
        """Start the server on a free port (another if that one was taken meanwhile)."""
        for attempt in range(tries):
            self.port = _free_port()
            proc = self._tool("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
                              "-o", f"-p {self.port}", "start", check=False)
            if proc.returncode == 0:
                return
            tail = self._log_tail()
            if "could not bind" not in tail or attempt == tries - 1:
                raise PgUnavailable(f"pg_ctl start failed: {(proc.stderr or proc.stdout).strip()} {tail}")

    def restart(self) -> None:
        """Restart the server (fast shutdown) on the same port: every open connection is cut."""
        proc = self._tool("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-m", "fast", "-w",
                          "-t", "60", "-o", f"-p {self.port}", "restart", check=False)
        if proc.returncode != 0:
            raise PgUnavailable(f"pg_ctl restart failed: {(proc.stderr or proc.stdout).strip()} {self._log_tail()}")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if (self.data_dir / "postmaster.pid").exists():
            self._tool("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop", check=False)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def execute(self, dbname: str, *statements) -> None:
        """Run statements (autocommit, superuser) in ``dbname``."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10) as con:
            for stmt in statements:
                con.execute(stmt)

    def create_database(self, name: str) -> str:
        """Create database ``name`` with PostGIS (a copy of the template); return its URL."""
        from psycopg import sql

        self.execute("postgres", sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(TEMPLATE)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, closing its connections."""
        from psycopg import sql

        self.execute("postgres", sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def prepare(self) -> None:
        """Create the template with PostGIS and the session's database; note the versions."""
        import psycopg
        from psycopg import sql

        self.execute("postgres", sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        try:
            self.execute(TEMPLATE, "CREATE EXTENSION postgis")
        except psycopg.Error as exc:
            raise PgUnavailable(
                f"CREATE EXTENSION postgis failed: {str(exc).strip()}; "
                f"install postgresql-{self.bindir.parent.name}-postgis-3 (scripts/ensure_postgres.sh)"
            ) from exc
        self.create_database(self.database)
        with psycopg.connect(self.url(), autocommit=True) as con:
            row = con.execute("SELECT current_setting('server_version'), postgis_lib_version()").fetchone()
        self.versions = {"postgresql": row[0].split()[0], "postgis": row[1]}


def _clear_stale(root: Path) -> None:
    """Stop and remove clusters left by test sessions that died (their owner process is gone)."""
    for run_dir in root.glob("run-*"):
        try:
            owner = int((run_dir / "owner.pid").read_text())
        except (OSError, ValueError):
            owner = 0
        if owner and _alive(owner):
            continue
        if (run_dir / "data" / "postmaster.pid").exists():
            try:
                server = PgServer(find_bindir(), run_dir, _run_as())
                server._tool("pg_ctl", "-D", str(server.data_dir), "-m", "immediate", "-w", "stop", check=False)
            except PgUnavailable:
                pass
        shutil.rmtree(run_dir, ignore_errors=True)


def _run_dir(prefix: list[str]) -> Path:
    """Make the cluster's folder under test-artifacts/pg/ (or /tmp when the server's user can't reach that)."""
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        _clear_stale(ARTIFACTS)
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=ARTIFACTS))
        (run_dir / "owner.pid").write_text(str(os.getpid()))
        _own(run_dir)
        probe = [*prefix, "test", "-w", str(run_dir), "-a", "-x", str(run_dir)]
        if subprocess.run(probe, check=False).returncode == 0:
            return run_dir
        shutil.rmtree(run_dir, ignore_errors=True)
    except OSError:
        pass
    run_dir = Path(tempfile.mkdtemp(prefix="minqing-pg-"))
    _own(run_dir)
    return run_dir


def start_server() -> PgServer:
    """Start a throwaway PostgreSQL + PostGIS server with the session's database; raise PgUnavailable if none can run."""
    t0 = time.perf_counter()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise PgUnavailable("the Python driver psycopg is not installed (pip install -e '.[dev]')") from None
    bindir = find_bindir()
    control = _sharedir(bindir) / "extension" / "postgis.control"
    if not control.is_file():
        raise PgUnavailable(
            f"PostGIS is not installed for PostgreSQL {bindir.parent.name} (no {control}); "
            f"install postgresql-{bindir.parent.name}-postgis-3 (run `bash scripts/ensure_postgres.sh` as root)"
        )
    prefix = _run_as()
    server = PgServer(bindir, _run_dir(prefix), prefix)
    try:
        server.init()
        server.start()
        server.prepare()
    except BaseException:
        server.stop()
        raise
    server.started_in = time.perf_counter() - t0
    return server


def session_server():
    """Yield the session's server (the body of the ``pg_cluster`` fixture); skip, loudly, where none can run."""
    if STATE.skipped:
        pytest.skip(STATE.skipped)
    try:
        server = start_server()
    except (PgUnavailable, OSError, subprocess.SubprocessError) as exc:
        STATE.skipped = f"PostGIS tests NOT RUN: {exc}"
        if os.environ.get("MINQING_PG_REQUIRED") == "1":
            pytest.fail(STATE.skipped + " (MINQING_PG_REQUIRED=1)", pytrace=False)
        pytest.skip(STATE.skipped)
    STATE.server = server
    try:
        yield server
    finally:
        server.stop()


def summary_line() -> tuple[str, dict]:
    """Return the terminal summary's line about the PostGIS tests and its markup (yellow when they did not run)."""
    if STATE.server is not None:
        s = STATE.server
        line = (f"PostGIS tests: ran on PostgreSQL {s.versions.get('postgresql')} with PostGIS "
                f"{s.versions.get('postgis')} (throwaway server on 127.0.0.1:{s.port}, started in "
                f"{s.started_in:.1f} s)")
        return line, {"green": True}
    if STATE.skipped:
        return STATE.skipped, {"yellow": True, "bold": True}
    return "PostGIS tests: none selected in this run", {}
