"""A private MariaDB server for ML Metadata: tests and `make mysql-up` / `make mysql-down`.

Production uses Cloud SQL for MySQL; this starts Debian's `mariadbd` (a real MySQL-protocol server)
with its own data directory, port and socket, one dedicated user with a generated password and no
anonymous users (after `mariadb-install-db` they would shadow 'user'@'%' on localhost).

    python -m mlops.devdb up [--dir .mysql-dev] [--port 3307]
    python -m mlops.devdb down [--dir .mysql-dev]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DATABASE = "mlmd"
USER = "mlops"
BINARIES = ("mariadbd", "mariadb-install-db", "mariadb")


class DevDbError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class Server:
    directory: Path
    port: int
    database: str = DATABASE
    user: str = USER

    @property
    def password_file(self) -> Path:
        return self.directory / "password"

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    @property
    def socket(self) -> Path:
        return self.directory / "mysqld.sock"

    @property
    def pid_file(self) -> Path:
        return self.directory / "mysqld.pid"

    @property
    def url(self) -> str:
        """The MLOPS_METADATA value, without the password (that goes in a file or env)."""
        return f"mysql://{self.user}@127.0.0.1:{self.port}/{self.database}"


def _binary(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise DevDbError(f"{name} not found: install Debian's mariadb-server "
                     "(apt-get install mariadb-server)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sql(server: Server, statements: str) -> None:
    # Root over the private socket (unix_socket authentication as the OS user that started it).
    # The statements (one holds the generated password) go in on stdin, not on the command line
    # where any local user could read them in the process list.
    subprocess.run([_binary("mariadb"), "--no-defaults", f"--socket={server.socket}", "-uroot",
                    "--batch"], input=statements, check=True, capture_output=True, text=True)


def start(directory: str | Path, port: int | None = None, timeout: float = 60) -> Server:
    """Initialises (first time) and starts the server; returns when it accepts connections."""
    directory = Path(directory).resolve()
    data = directory / "data"
    first_time = not data.exists()
    directory.mkdir(parents=True, exist_ok=True)
    port_file = directory / "port"
    port = port or (int(port_file.read_text()) if port_file.exists() else free_port())
    server = Server(directory, port)
    if server.pid_file.exists() and _alive(int(server.pid_file.read_text())):
        return server
    run_as = ["--user=root"] if os.geteuid() == 0 else []
    if first_time:
        subprocess.run([_binary("mariadb-install-db"), "--no-defaults", f"--datadir={data}",
                        "--skip-test-db", "--auth-root-authentication-method=socket", *run_as],
                       check=True, capture_output=True, text=True)
    log = open(directory / "mysqld.log", "a")
    subprocess.Popen(
        [_binary("mariadbd"), "--no-defaults", f"--datadir={data}", f"--port={port}",
         "--bind-address=127.0.0.1", f"--socket={server.socket}", f"--pid-file={server.pid_file}",
         "--skip-name-resolve", "--innodb-buffer-pool-size=64M", *run_as],
        stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not _accepts(port):
        if time.monotonic() > deadline:
            raise DevDbError(f"mariadbd did not start within {timeout:.0f}s; see "
                             f"{directory / 'mysqld.log'}")
        time.sleep(0.2)
    port_file.write_text(str(port))
    if first_time:
        password = secrets.token_urlsafe(18)
        server.password_file.touch(mode=0o600)
        server.password_file.write_text(password + "\n")
        # '' users shadow 'mlops'@'%' for local connections: drop them, and create the user for
        # localhost as well as for any host.
        _sql(server, f"""
            DELETE FROM mysql.global_priv WHERE User = '';
            FLUSH PRIVILEGES;
            CREATE DATABASE {server.database};
            CREATE USER '{server.user}'@'%' IDENTIFIED BY '{password}';
            CREATE USER '{server.user}'@'localhost' IDENTIFIED BY '{password}';
            GRANT ALL ON {server.database}.* TO '{server.user}'@'%';
            GRANT ALL ON {server.database}.* TO '{server.user}'@'localhost';
        """)
    return server


def create_database(server: Server, name: str) -> str:
    """Another database on the server for the same user (e.g. `metadb`, where Kubeflow keeps its
    ML Metadata); returns its MLOPS_METADATA URL."""
    if not name.isidentifier():
        raise DevDbError(f"invalid database name {name!r}")
    _sql(server, f"""
        CREATE DATABASE IF NOT EXISTS {name};
        GRANT ALL ON {name}.* TO '{server.user}'@'%';
        GRANT ALL ON {name}.* TO '{server.user}'@'localhost';
    """)
    return f"mysql://{server.user}@127.0.0.1:{server.port}/{name}"


def stop(directory: str | Path, timeout: float = 60) -> bool:
    """Stops the server started in `directory`; True if one was running."""
    pid_file = Path(directory).resolve() / "mysqld.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    if not _alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of this process still "exists"; reap it if so.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--dir", default=".mysql-dev")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            server = start(args.dir, args.port)
            print(f"MariaDB for ML Metadata is up on 127.0.0.1:{server.port} "
                  f"(data and log in {server.directory}). Use it with:\n"
                  f"  export MLOPS_METADATA={server.url}\n"
                  f"  export MLOPS_METADATA_PASSWORD_FILE={server.password_file}")
        else:
            print("stopped" if stop(args.dir) else "not running")
    except (DevDbError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or ""
        print(f"error: {err} {detail}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
