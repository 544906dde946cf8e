"""Run the ``spladekit`` command line in a subprocess, as a user's shell would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COMMAND = [sys.executable, "-m", "spladekit"]


def environment(**extra: str) -> dict[str, str]:
    """Offline, with the prepared-model cache the test session uses."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", **extra}


def spladekit(
    *args: str | Path, stdin: str | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``spladekit ARGS...``: its exit status, stdout and stderr."""
    return subprocess.run(
        [*COMMAND, *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(),
        cwd=cwd,
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], status: int, *parts: str) -> None:
    """Exit *status*, nothing on stdout, one stderr line naming each of *parts*, no traceback."""
    assert done.returncode == status, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("spladekit"), lines[0]
    for part in parts:
        assert part in lines[0], (part, lines[0])
