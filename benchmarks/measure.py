"""Run one benchmark step in a child process and measure its time and peak memory.

Each step gets its own process so that its peak RSS is its own: DuckDB, pandas and the
interpreter all live in the step's process (or its children). The peak is the larger of
two readings: the kernel's own high-water mark of the largest process (`wait4`'s
`ru_maxrss`, exact but per process) and the sum of the RSS of the whole process tree,
sampled from /proc (catches children running at once, but can miss a short spike).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

#: How often the process tree's RSS is sampled.
SAMPLE_SECONDS = 0.05
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
#: The last line a step prints starts with this marker, followed by its JSON result.
RESULT_MARKER = "BENCHMARK-RESULT "


class StepFailed(RuntimeError):
    """A benchmark step exited with an error; the message carries its stderr's tail."""


@dataclass
class Measurement:
    """What one step took: its own timing of the work (wall, and CPU of all its threads),
    the process's wall time, memory. On a shared machine the CPU seconds of a step vary
    less than its wall seconds, so ratios are given for both."""

    step: str
    seconds: float
    cpu_seconds: float
    wall_seconds: float
    peak_rss_mb: float
    details: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        """The figure as the benchmark's JSON reports it."""
        return {
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            **self.details,
        }


def _children(pid: int) -> list[int]:
    """Direct children of a process, from every thread's `children` list."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except OSError:
            continue
        found.extend(int(child) for child in text.split())
    return found


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 once gone)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            resident_pages = int(Path(f"/proc/{current}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident_pages * _PAGE_SIZE
        pending.extend(_children(current))
    return total


class _Sampler(threading.Thread):
    """Samples a process tree's RSS until told to stop; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def run_step(step: str, command: list[str], *, env: dict[str, str] | None = None) -> Measurement:
    """Run `command` (a step that prints its result line) and measure it.

    Raises:
        StepFailed: the step exited non-zero or printed no result.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    sampler = _Sampler(process.pid)
    sampler.start()
    outputs: dict[str, str] = {}

    def drain(name: str) -> None:
        stream = getattr(process, name)
        outputs[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(name,)) for name in ("stdout", "stderr")]
    for reader in readers:
        reader.start()
    # wait4 on this very child: its rusage (ru_maxrss in KiB on Linux) is its own peak.
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    sampled = sampler.stop()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = "\n".join(outputs.get("stderr", "").splitlines()[-30:])
        raise StepFailed(f"step {step} failed (exit {process.returncode}):\n{tail}")
    result = _result(outputs.get("stdout", ""))
    if result is None:
        raise StepFailed(f"step {step} printed no result line:\n{outputs.get('stdout', '')}")
    peak = max(sampled, usage.ru_maxrss * 1024)
    seconds, cpu_seconds = float(result.pop("seconds")), float(result.pop("cpu_seconds"))
    return Measurement(step, seconds, cpu_seconds, wall, peak / 2**20, result)


def _result(stdout: str) -> dict[str, object] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER) :])
    return None


def python_command(module: str, *arguments: str) -> list[str]:
    """`python -m module arguments...` with this interpreter."""
    return [sys.executable, "-m", module, *arguments]
