"""Several workers without REDIS_URL, each counting rate limits alone, refuse to start."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from cms_api.cli.serve import serve_command
from cms_api.config import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def started(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """`cms-api serve` up to gunicorn: the options it would start gunicorn with."""
    from cms_api.cli import serve

    # Loading the gunicorn settings gives the process a metrics directory, which would turn
    # later tests' metrics into multiprocess ones: the test's own, taken back after it.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    # serve sets the API's address in the app's settings: other tests get them back.
    monkeypatch.setitem(app.config, "CMS_SETTINGS", app.config["CMS_SETTINGS"])

    options: list[dict[str, Any]] = []

    class Recorder:
        def __init__(self, given: dict[str, Any]) -> None:
            options.append(given)

        def run(self) -> None:
            pass

    monkeypatch.setattr(serve, "_Gunicorn", Recorder)
    monkeypatch.setattr(serve, "upgrade", lambda: None)
    # serve hands its database to the workers through the environment, and recycles its pool.
    monkeypatch.setenv("DATABASE_URL", os.environ.get("DATABASE_URL", ""))
    monkeypatch.setattr(serve, "db", SimpleNamespace(engine=SimpleNamespace(dispose=lambda: None)))
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("CMS_API_BASE_URL", raising=False)
    return options


def test_serve_refuses_several_workers_without_redis(runner, started):
    result = runner.invoke(serve_command, ["--no-seed", "--workers", "2"])

    assert result.exit_code != 0
    assert "REDIS_URL" in result.output and "CMS_RATE_LIMITS_PER_WORKER" in result.output
    assert started == []


def test_serve_runs_one_worker_by_default_without_redis(app: Flask, runner, started):
    result = runner.invoke(serve_command, ["--no-seed"])

    assert result.exit_code == 0, result.output
    assert started[0]["workers"] == 1
    # The workers' links, sitemaps and preview URLs lead back to the address served, and
    # so do the image URLs that documents rendered before the workers start embed.
    assert os.environ["CMS_API_BASE_URL"] == "http://127.0.0.1:8000"
    assert app.config["CMS_SETTINGS"].api_base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "change", [{"redis_url": "redis://127.0.0.1:6379/0"}, {"rate_limits_per_worker": True}]
)
def test_serve_runs_several_workers_with_shared_counters_or_consent(
    app: Flask, runner, started, change
):
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(settings, **change)
    try:
        result = runner.invoke(serve_command, ["--no-seed", "--workers", "2"])
    finally:
        app.config["CMS_SETTINGS"] = settings

    assert result.exit_code == 0, result.output
    assert started[0]["workers"] == 2


def test_the_setting_is_read_from_the_environment():
    assert Settings.from_environ({}).rate_limits_per_worker is False
    assert Settings.from_environ({"CMS_RATE_LIMITS_PER_WORKER": "true"}).rate_limits_per_worker


def _gunicorn(app: Flask, tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    environment = {
        key: value for key, value in os.environ.items() if key != "CMS_RATE_LIMITS_PER_WORKER"
    }
    environment.pop("REDIS_URL", None)
    environment.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
        CMS_BIND="127.0.0.1:0",
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:cms_api.gunicorn_conf", "wsgi:app"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.multiprocess
def test_gunicorn_refuses_several_workers_without_redis(app, tmp_path: Path):
    server = _gunicorn(app, tmp_path, WEB_CONCURRENCY="2")
    try:
        _, errors = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.terminate()
        server.communicate(timeout=30)
        pytest.fail("gunicorn started 2 workers that each count rate limits alone")
    assert server.returncode != 0
    assert "REDIS_URL" in errors and "CMS_RATE_LIMITS_PER_WORKER" in errors
