"""A primary, a streaming replica and PgBouncer of our own, for replica tests.

Everything is started on free loopback ports in one temporary folder (trust authentication)
and stopped by the context manager that started it, also when the test fails.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.live import DATABASE, PG_BIN, PrivatePostgres, free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


class Server(PrivatePostgres):
    """A PrivatePostgres started with extra `-c` settings (a replica's apply delay)."""

    def __init__(self, folder: Path, **settings: str) -> None:
        super().__init__(folder)
        self.settings = settings

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c fsync=off -c max_connections=100"
        )
        for name, value in self.settings.items():
            options += f" -c {name}={value}"
        self._run(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(self.log_path), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def create_replica_of(self, primary: PrivatePostgres) -> None:
        """This server's data as a base backup of `primary`, set up to stream from it (-R)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        self.log_path.touch()
        if self.system_user:
            shutil.chown(self.log_path, self.system_user, self.system_user)
            shutil.chown(self.folder, self.system_user, self.system_user)
        self._run(
            "pg_basebackup",
            "-D",
            str(self.pgdata),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-X",
            "stream",
            "-R",
            "--checkpoint=fast",
            "--no-sync",
        )

    def position(self, sql: str) -> int:
        with self.connect() as connection:
            row = connection.execute(sql).fetchone()
        return int(row[0]) if row and row[0] is not None else 0


class PgBouncer:
    """PgBouncer in transaction mode, one pooled database per `name=server`."""

    def __init__(self, folder: Path, databases: dict[str, PrivatePostgres], user: str | None):
        self.folder = folder
        self.port = free_port()
        self.user = user
        self.process: subprocess.Popen[bytes] | None = None
        lines = ["[databases]"]
        lines += [
            f"{name} = host=127.0.0.1 port={server.port} dbname={DATABASE}"
            for name, server in databases.items()
        ]
        lines += [
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {folder / 'userlist.txt'}",
            "pool_mode = transaction",
            "max_client_conn = 200",
            "default_pool_size = 8",
            f"logfile = {folder / 'pgbouncer.log'}",
            "ignore_startup_parameters = extra_float_digits,options",
        ]
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        (folder / "userlist.txt").write_text('"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text("\n".join(lines) + "\n")
        (folder / "pgbouncer.log").touch()
        if user:
            for path in (folder, folder / "pgbouncer.log"):
                shutil.chown(path, user, user)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> PgBouncer:
        with (self.folder / "pgbouncer.out").open("ab") as output:
            self.process = subprocess.Popen(
                [PGBOUNCER, str(self.folder / "pgbouncer.ini")],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                user=self.user,
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                psycopg.connect(self.url(DATABASE), connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@dataclass
class Cluster:
    folder: Path
    primary: Server
    replica: Server
    pgbouncer: PgBouncer


@contextlib.contextmanager
def cluster(*, apply_delay_ms: int = 0, keep: bool = False) -> Iterator[Cluster]:
    """A primary with database `cms`, a streaming replica of it (replaying each commit
    `apply_delay_ms` late) and PgBouncer in transaction mode in front of both (databases
    `cms`: the replica, `cms_primary`: the primary). Everything is stopped on the way out."""
    assert (PG_BIN / "pg_basebackup").exists(), PG_BIN
    folder = Path(tempfile.mkdtemp(prefix="cms-replicas-"))
    folder.chmod(0o755)
    primary = Server(folder / "primary")
    replica = Server(folder / "replica", recovery_min_apply_delay=f"{apply_delay_ms}ms")
    started: list[Server] = []
    try:
        primary.create()
        primary.start()
        started.append(primary)
        with psycopg.connect(primary.server_url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
        replica.create_replica_of(primary)
        replica.start()
        started.append(replica)
        bouncer = PgBouncer(
            folder / "pgbouncer", {DATABASE: replica, "cms_primary": primary}, primary.system_user
        )
        with bouncer:
            yield Cluster(folder, primary, replica, bouncer)
    finally:
        for server in reversed(started):
            with contextlib.suppress(subprocess.SubprocessError):
                server.stop("immediate")
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
