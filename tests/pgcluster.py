"""A throwaway PostgreSQL cluster on 127.0.0.1 for the database-source test (and the benchmark).

Debian's ``postgresql`` package gives the binaries (``/usr/lib/postgresql/<v>/bin``); when they are
missing and we are root with apt-get (CI), :func:`ensure_installed` installs the package, as the
Makefile's ``browser`` target does for Chromium. The server refuses to run as root: as root, it runs as
the ``postgres`` user the package creates. A password is set (SCRAM on 127.0.0.1) so that the test can
check it never reaches a report or a log.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["pg_bin", "ensure_installed", "cluster", "copy_frame"]


def pg_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's newest version."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def ensure_installed() -> Path:
    """The binaries' folder, installing Debian's postgresql package first when root and apt-get exists."""
    where = pg_bin()
    if where is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)
        where = pg_bin()
    if where is None:
        raise RuntimeError("PostgreSQL's initdb and pg_ctl are not installed: apt-get install postgresql")
    return where


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Info(dict):
    """The cluster's settings; shown without the password (a failing test prints its fixtures)."""

    def __repr__(self) -> str:
        return repr({k: ("***" if k == "password" else v) for k, v in self.items()})


@contextlib.contextmanager
def cluster(database: str = "erp", user: str = "salesbook") -> Iterator[dict[str, str]]:
    """Start a cluster, create ``database``; yields host, port, user, password, database and ``url``
    (without the password: it goes by ``PGPASSWORD``). Stopped and removed on exit."""
    bindir = ensure_installed()
    root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="salesbook-pg-"))
    password = secrets.token_urlsafe(16)
    (folder / "pw").write_text(password, encoding="utf-8")
    as_owner: list[str] = []
    if root:
        import pwd
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        os.chown(folder / "pw", owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    run = lambda *cmd: subprocess.run(as_owner + [str(bindir / cmd[0]), *cmd[1:]], check=True,  # noqa: E731
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run("initdb", "-D", str(data), "-U", user, f"--pwfile={folder / 'pw'}", "--auth-host=scram-sha-256",
        "--auth-local=trust", "-E", "UTF8", "--no-sync")
    (folder / "pw").unlink()
    run("pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60", "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", "start")
    try:
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=port, user=user, password=password, dbname="postgres",
                             autocommit=True) as con:
            con.execute(f'create database "{database}"')
        yield _Info(host="127.0.0.1", port=str(port), user=user, password=password, database=database,
                    url=f"postgres://{user}@127.0.0.1:{port}/{database}")
    finally:
        subprocess.run(as_owner + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


def copy_frame(info: dict[str, str], table: str, frame) -> None:
    """``frame`` into a new ``table`` by COPY (dates as timestamps, amounts as double precision)."""
    import pandas as pd
    import psycopg
    types = {c: ("timestamp" if pd.api.types.is_datetime64_any_dtype(t) else "double precision"
                 if pd.api.types.is_float_dtype(t) else "bigint" if pd.api.types.is_integer_dtype(t) else "text")
             for c, t in frame.dtypes.items()}
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False)
    with psycopg.connect(host=info["host"], port=int(info["port"]), user=info["user"], password=info["password"],
                         dbname=info["database"], autocommit=True) as con:
        con.execute(f'create table "{table}" (' + ", ".join(f'"{c}" {t}' for c, t in types.items()) + ")")
        with con.cursor().copy(f'copy "{table}" from stdin with (format csv)') as copy:
            copy.write(buf.getvalue())
