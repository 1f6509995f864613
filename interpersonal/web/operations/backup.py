"""Backup and restore of the configured database (``interpersonal backup FILE`` / ``restore FILE``).

SQLite: SQLite's online backup API copies the live database page by page under a read
transaction, so the copy is consistent while the server runs (WAL included); the copy is
written to a temporary file, switched to a single self-contained file (journal_mode=DELETE),
checked with ``PRAGMA integrity_check`` and only then renamed into place. Restore runs the
same API in reverse (source = the backup file, target = the live database).

PostgreSQL: ``pg_dump --format=custom --no-owner`` and ``pg_restore --clean --if-exists
--no-owner --single-transaction``. Connection details come from ``settings.DATABASES``; the
password is passed in the ``PGPASSWORD`` environment variable, never on the command line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SQLITE, POSTGRESQL = "sqlite", "postgresql"
_ENGINES = {"django.db.backends.sqlite3": SQLITE, "django.db.backends.postgresql": POSTGRESQL}


@dataclass
class Report:
    engine: str
    file: Path
    size: int
    sha256: str
    row_counts: dict[str, int] = field(default_factory=dict)

    def lines(self, verb: str) -> list[str]:
        out = [
            f"{verb} {self.engine} database {'to' if verb == 'Backed up' else 'from'} {self.file}",
            f"  size:    {self.size} bytes",
            f"  sha256:  {self.sha256}",
            f"  tables:  {len(self.row_counts)}, rows: {sum(self.row_counts.values())}",
        ]
        width = max((len(t) for t in self.row_counts), default=0)
        out += [f"    {table:<{width}}  {count}" for table, count in self.row_counts.items()]
        return out


def engine_kind(alias: str = "default") -> str:
    engine = connections[alias].settings_dict["ENGINE"]
    try:
        return _ENGINES[engine]
    except KeyError:
        raise CommandError(f"backup/restore supports SQLite and PostgreSQL, not {engine}") from None


def file_kind(path: Path) -> str | None:
    """``sqlite`` or ``postgresql`` (pg_dump custom format) from the file's first bytes, else None."""
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return SQLITE
    if head.startswith(PGDUMP_MAGIC):
        return POSTGRESQL
    return None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def row_counts(alias: str = "default") -> dict[str, int]:
    """Rows in every table of the database (sorted by table name), through Django's connection."""
    connection = connections[alias]
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected name, quoted
            counts[table] = cursor.fetchone()[0]
    return counts


def _sqlite_path(alias: str) -> Path:
    name = str(connections[alias].settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise CommandError(f"the SQLite database {name!r} is not a file; nothing to back up or restore")
    return Path(name)


def _integrity_check(conn: sqlite3.Connection, what: str) -> None:
    result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise CommandError(f"{what} failed PRAGMA integrity_check: {'; '.join(result[:5])}")


def _pg_env_and_conninfo(alias: str) -> tuple[dict[str, str], str]:
    """Environment (with PGPASSWORD) and a password-free libpq connection string."""
    from psycopg import conninfo, pq

    db: dict[str, Any] = connections[alias].settings_dict
    params: dict[str, Any] = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    libpq_keywords = {opt.keyword.decode() for opt in pq.Conninfo.get_defaults()}
    params |= {k: v for k, v in (db.get("OPTIONS") or {}).items() if k in libpq_keywords and k != "password"}
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env, conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(
            f"{name} is not on PATH; install the PostgreSQL client tools (apt-get install postgresql-client)"
        )
    return path


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv, no shell
    if result.returncode != 0:
        raise CommandError(f"{what} failed (exit {result.returncode}):\n{result.stderr.strip()}")


def backup(dest: Path, *, force: bool = False, alias: str = "default") -> Report:
    dest = dest.expanduser().resolve()
    if dest.exists() and not force:
        raise CommandError(f"{dest} already exists; choose another file or pass --force to overwrite it")
    if not dest.parent.is_dir():
        raise CommandError(f"directory {dest.parent} does not exist")
    kind = engine_kind(alias)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == SQLITE:
            live = _sqlite_path(alias)
            if not live.exists():
                raise CommandError(f"the SQLite database {live} does not exist (run `interpersonal migrate` first)")
            source = sqlite3.connect(live)
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
                # One self-contained file: no -wal/-shm companions needed to read it.
                target.execute("PRAGMA journal_mode=DELETE")
                _integrity_check(target, "the backup copy")
            finally:
                target.close()
                source.close()
        else:
            env, dsn = _pg_env_and_conninfo(alias)
            _run(
                [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), "--dbname", dsn],
                env,
                "pg_dump",
            )
            _run([_tool("pg_restore"), "--list", str(partial)], env, "pg_restore --list (verifying the dump)")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return Report(kind, dest, dest.stat().st_size, sha256(dest), row_counts(alias))


def restore(source: Path, *, alias: str = "default") -> Report:
    source = source.expanduser().resolve()
    if not source.is_file():
        raise CommandError(f"{source} is not a file")
    kind, found = engine_kind(alias), file_kind(source)
    if found is None:
        raise CommandError(f"{source} is neither a SQLite database nor a pg_dump custom-format archive")
    if found != kind:
        names = {SQLITE: "a SQLite database", POSTGRESQL: "a PostgreSQL (pg_dump) archive"}
        raise CommandError(
            f"{source} is {names[found]} but the configured database (DATABASE_URL) is {kind}; "
            "restore it into a database of the same kind"
        )
    digest = sha256(source)
    connections.close_all()
    if kind == SQLITE:
        live = _sqlite_path(alias)
        backup_conn = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
        try:
            _integrity_check(backup_conn, str(source))
            live_conn = sqlite3.connect(live, timeout=20)
            try:
                try:
                    backup_conn.backup(live_conn)
                except sqlite3.DatabaseError as exc:  # the file being replaced is not a database
                    raise CommandError(
                        f"could not write over {live} ({exc}): if it is damaged, move it (and any -wal and -shm "
                        "files beside it) aside, then restore again; nothing was restored"
                    ) from None
                live_conn.execute("PRAGMA journal_mode=WAL")
                _integrity_check(live_conn, "the restored database")
            finally:
                live_conn.close()
        finally:
            backup_conn.close()
    else:
        env, dsn = _pg_env_and_conninfo(alias)
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                dsn,
                str(source),
            ],
            env,
            "pg_restore",
        )
    connections.close_all()
    counts = row_counts(alias)
    if "django_migrations" not in counts:
        raise CommandError(f"restored {source}, but it has no django_migrations table: is it an interpersonal backup?")
    return Report(kind, source, source.stat().st_size, digest, counts)
