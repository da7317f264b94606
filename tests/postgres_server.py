"""A real, throwaway PostgreSQL server on 127.0.0.1 for tests (one per pytest/xdist process)."""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

APT_INSTALL = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]


def find_pg_bin() -> Path | None:
    """The directory with pg_ctl, initdb and postgres: from PATH, else the newest Debian one."""
    found = [Path(p).resolve().parent for p in [shutil.which("pg_ctl")] if p]
    debian = Path("/usr/lib/postgresql").glob("*/bin")  # e.g. .../15/bin: newest version first
    found += sorted(debian, key=lambda d: [int(n) for n in re.findall(r"\d+", str(d))])[::-1]
    need = ("pg_ctl", "initdb", "postgres")
    return next((d for d in found if all((d / t).is_file() for t in need)), None)


def install_pg() -> Path:
    """apt-get install the server (root only, one xdist worker at a time); fail if that fails."""
    if os.geteuid() != 0:
        pytest.fail("no PostgreSQL server: `apt-get install postgresql` or put pg_ctl on PATH")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open("/tmp/trainrig-pg-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be installing right now
        for cmd in [] if find_pg_bin() else [["apt-get", "update"], APT_INSTALL]:
            try:
                subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            except (OSError, subprocess.SubprocessError) as exc:
                pytest.fail(f"installing PostgreSQL failed: {exc}\n{getattr(exc, 'stderr', '')}")
    return find_pg_bin() or pytest.fail("PostgreSQL installed, but no pg_ctl/initdb/postgres found")


def as_server_user(base: Path) -> dict[str, Any]:
    """subprocess kwargs for the server's tools; as root, hand `base` to the `postgres` user."""
    if os.geteuid() != 0:
        return {"cwd": base}
    if "postgres" not in {u.pw_name for u in pwd.getpwall()}:  # Debian's package creates it
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "postgres"])
    user = pwd.getpwnam("postgres")
    os.chown(base, user.pw_uid, user.pw_gid)
    for d in [base, *base.parents]:  # pytest's tmp dirs are 0700: let postgres traverse them
        if not d.stat().st_mode & stat.S_IXOTH:
            d.chmod(d.stat().st_mode | stat.S_IXOTH)
    return {"cwd": base, "user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def run_pg(cmd: list[str], kw: dict[str, Any], log: Path | None = None, must: bool = True) -> bool:
    """Run one PostgreSQL tool; if `must`, fail with its output (and the server log) on error."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    if done.returncode and must:
        tail = log.read_text()[-3000:] if log and log.exists() else ""
        pytest.fail(f"{shlex.join(cmd)} failed:\n{done.stdout}{done.stderr}{tail}")
    return done.returncode == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLAlchemy URL of an empty `optuna` database on a private server, stopped at session end."""
    bin_dir = find_pg_bin() or install_pg()
    base = tmp_path_factory.mktemp("pg")  # also the unix-socket dir: short, private per worker
    data, log, kw = base / "data", base / "server.log", as_server_user(base)
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "trainrig"]
    run_pg([*initdb, "--no-sync", "--no-locale", "-E", "UTF8"], kw)
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
    conf = f"-c listen_addresses=127.0.0.1 -k {shlex.quote(str(base))} -c fsync=off"
    try:
        for attempt in range(3):  # someone may take the free port before postgres binds it
            port = free_port()
            if run_pg([*pg_ctl, "-o", f"{conf} -p {port}", "start"], kw, log, attempt == 2):
                break
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="trainrig", dbname="postgres")
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        conn.cursor().execute("CREATE DATABASE optuna")
        conn.close()
        yield f"postgresql+psycopg2://trainrig@127.0.0.1:{port}/optuna"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], capture_output=True, **kw)
