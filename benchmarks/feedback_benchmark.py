"""Time what a developer waits for: a bad stack file refused, the quick test loop, the whole suite.

- rejection: `meridian plan` on a copy of the project whose stack file names a write home outside
  the stack, as a whole process, until it exits 2 with the message;
- quick loop and suite (with --suite): `pytest -m "not slow"` and `pytest`, as docs/fast-feedback.md runs
  them (checkov from `make scanner`, when MERIDIAN_CHECKOV is set), each once.

    python benchmarks/feedback_benchmark.py --repeat 5 [--suite]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BAD_WRITE_HOME = ("writeHome: us-east-1", "writeHome: sa-east-1")


def _timed(command: Sequence[str], cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    return time.perf_counter() - start, result


def rejection(stack: str, repeat: int) -> tuple[float, float]:
    """Best and median seconds for `meridian plan --stack STACK` to refuse a bad stack file."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        shutil.copy(PROJECT / "Pulumi.yaml", folder / "Pulumi.yaml")
        stack_file = folder / f"Pulumi.{stack}.yaml"
        stack_file.write_text((PROJECT / stack_file.name).read_text().replace(*BAD_WRITE_HOME))
        meridian = [sys.executable, "-m", "infra.cli"]  # the console script's code, from sys.path
        times = []
        for _ in range(repeat):
            seconds, result = _timed([*meridian, "plan", "--stack", stack, "--project-dir", str(folder)])
            if result.returncode != 2 or "is not a region of this stack" not in result.stderr:
                raise SystemExit(f"expected a refusal (exit 2), got {result.returncode}: {result.stderr}")
            times.append(seconds)
    return min(times), statistics.median(times)


def suite(*marker: str) -> tuple[float, str]:
    """Wall seconds of one pytest run, and pytest's own closing line."""
    seconds, result = _timed(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *marker], PROJECT
    )
    lines = [line for line in result.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    if result.returncode != 0:
        raise SystemExit(f"pytest {' '.join(marker)} failed:\n{result.stdout[-3000:]}")
    return seconds, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--suite", action="store_true", help="also time the quick loop and the whole suite")
    args = parser.parse_args()
    for stack in ("staging", "prod"):
        best, median = rejection(stack, args.repeat)
        print(f"bad {stack} stack file refused: best {best * 1000:7.1f} ms   median {median * 1000:7.1f} ms")
    if args.suite:
        for label, marker in (("quick loop (-m 'not slow')", ("-m", "not slow")), ("whole suite", ())):
            seconds, closing = suite(*marker)
            print(f"{label}: {seconds:6.1f} s wall ({closing.strip('= ')})")


if __name__ == "__main__":
    main()
