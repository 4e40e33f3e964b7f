"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, listening on
127.0.0.1 only, trust authentication for the one test role, stopped at the end.

Used two ways:
- by `.ci/run` (`python3 tests/pg_server.py start DIR` prints the URL; `stop DIR`), so CI runs
  every PostgreSQL test against a real server;
- by tests/conftest.py, which starts one itself when TOKCLI_TEST_POSTGRESQL is not set.

PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user that
Debian's package creates (or `nobody`), which owns the temporary folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROLE = "tokcli"


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: PATH, `pg_config --bindir`, or Debian's versioned folder."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    config = shutil.which("pg_config")
    if config:
        folder = Path(
            subprocess.run([config, "--bindir"], capture_output=True, text=True).stdout.strip()
        )
        if (folder / "initdb").exists():
            return folder
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(versions[-1]).parent if versions else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root and no non-root user to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(folder: Path) -> str:
    """Initialise and start a server in `folder`; return the URL of its `postgres` database."""
    binaries = bindir()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb found)")
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = _as_server_user()
    if wrapper:
        user = wrapper[2]
        shutil.chown(folder, user)
        os.chmod(folder, 0o700)
    data, port = folder / "data", _free_port()
    subprocess.run(
        [*wrapper, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", ROLE,
         "--no-sync", "-E", "UTF8", "--locale", "C"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*wrapper, str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
         "-l", str(folder / "server.log"), "-w", "-t", "60", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    (folder / "port").write_text(str(port))
    url = f"postgresql://{ROLE}@127.0.0.1:{port}/postgres"
    _wait(port)
    return url


def _wait(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{port}")


def stop(folder: Path) -> None:
    binaries = bindir()
    data = folder / "data"
    if binaries is None or not data.exists():
        return
    subprocess.run(
        [*_as_server_user(), str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
        capture_output=True,
    )


if __name__ == "__main__":
    command, where = sys.argv[1], Path(sys.argv[2])
    if command == "start":
        print(start(where))
    elif command == "stop":
        stop(where)
    else:
        sys.exit(f"usage: {sys.argv[0]} start|stop FOLDER")
