"""Loopback load generators (wrk when installed, else threads with keep-alive http.client)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Request:
    """One request a scenario rotates through."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    port: int
    requests: list[Request]
    expected: frozenset[int] = frozenset({200})


@dataclass(frozen=True)
class Result:
    scenario: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    generator: str
    max_ms: float = float("nan")
    # The machine's 1-minute load average when the measurement ended (other work included).
    load: float = float("nan")
    # CPU time the server's processes spent per request (microseconds), when measured.
    cpu_us: float = float("nan")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


# -- Python generator ----------------------------------------------------------------------


class _Worker(threading.Thread):
    def __init__(self, scenario: Scenario, offset: int, stop_at: float) -> None:
        super().__init__(daemon=True)
        self.scenario = scenario
        self.offset = offset
        self.stop_at = stop_at
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        requests = self.scenario.requests
        expected = self.scenario.expected
        connection = http.client.HTTPConnection("127.0.0.1", self.scenario.port, timeout=10)
        index = self.offset
        clock = time.perf_counter
        while clock() < self.stop_at:
            request = requests[index % len(requests)]
            index += 1
            started = clock()
            try:
                connection.request("GET", request.path, headers=request.headers)
                response = connection.getresponse()
                response.read()
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                connection.close()
                self.errors += 1
                continue
            self.latencies.append(clock() - started)
            if response.status not in expected:
                self.errors += 1
        connection.close()


def run_python(scenario: Scenario, *, duration: float, concurrency: int) -> Result:
    """Closed-loop load: `concurrency` threads, each sending the next request on reply."""
    started = time.perf_counter()
    workers = [
        _Worker(scenario, offset=i * 7919, stop_at=started + duration) for i in range(concurrency)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(duration + 30)
    elapsed = time.perf_counter() - started
    latencies = sorted(value for worker in workers for value in worker.latencies)
    return Result(
        scenario=scenario.name,
        requests=len(latencies),
        seconds=round(elapsed, 3),
        rps=len(latencies) / elapsed,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        errors=sum(worker.errors for worker in workers),
        generator="python",
        max_ms=(latencies[-1] if latencies else float("nan")) * 1000,
        load=os.getloadavg()[0],
    )


# -- wrk -----------------------------------------------------------------------------------

_WRK_SCRIPT = """
local requests = {%(requests)s}
local next_thread = 0
function setup(thread)
  thread:set("offset", next_thread * 7919)
  next_thread = next_thread + 1
end
function init(args)
  counter = offset or 0
end
function request()
  counter = counter + 1
  return requests[(counter %% #requests) + 1]
end
function done(summary, latency, requests)
  local errors = summary.errors
  io.write("BENCH-RESULT " .. string.format(
    '{"requests":%%d,"duration_us":%%d,"status":%%d,"connect":%%d,"read":%%d,' ..
    '"write":%%d,"timeout":%%d,"p50_us":%%d,"p99_us":%%d,"max_us":%%d}',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50), latency:percentile(99),
    latency.max) .. "\\n")
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal of ASCII text is a valid Lua literal


def _wrk_script(scenario: Scenario) -> str:
    entries = []
    for request in scenario.requests:
        headers = ", ".join(
            f"[{_lua_string(name)}] = {_lua_string(value)}"
            for name, value in request.headers.items()
        )
        entries.append(f'wrk.format("GET", {_lua_string(request.path)}, {{{headers}}})')
    return _WRK_SCRIPT % {"requests": ",\n".join(entries)}


def run_wrk(scenario: Scenario, *, duration: float, concurrency: int, threads: int = 1) -> Result:
    """wrk with a Lua script rotating the scenario's requests; statuses >= 400 are errors."""
    with tempfile.TemporaryDirectory(prefix="cms-bench-") as folder:
        script = Path(folder) / "scenario.lua"
        script.write_text(_wrk_script(scenario), encoding="utf-8")
        command = [
            "wrk",
            f"-t{min(threads, concurrency)}",
            f"-c{concurrency}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{scenario.port}",
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=False
        )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    data = json.loads(lines[-1].removeprefix("BENCH-RESULT "))
    seconds = data["duration_us"] / 1e6
    errors = sum(data[key] for key in ("status", "connect", "read", "write", "timeout"))
    return Result(
        scenario=scenario.name,
        requests=data["requests"],
        seconds=round(seconds, 3),
        rps=data["requests"] / seconds,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        generator="wrk",
        max_ms=data["max_us"] / 1000,
        load=os.getloadavg()[0],
    )


def run(
    scenario: Scenario, *, generator: str, duration: float, concurrency: int, warmup: float
) -> Result:
    """Warm up (results discarded), then measure for `duration` seconds."""
    runner = run_wrk if generator == "wrk" else run_python
    if warmup > 0:
        runner(scenario, duration=warmup, concurrency=concurrency)
    return runner(scenario, duration=duration, concurrency=concurrency)
