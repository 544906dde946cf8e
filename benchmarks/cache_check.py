"""What the cache integrity check adds to loading a prepared model, in fresh processes.

Each round: one process loads the encoder as users do (manifest checked in the background
while the session is made: the first load in a process); one loads it with the byte check
switched off; one process times the check alone. Rounds interleave; best of each is reported.

    python benchmarks/cache_check.py [--model benchmarks/.cache/splade-base] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent

LOAD = """
import json, sys, time
start = time.perf_counter()
from spladekit import SpladeEncoder
encoder = SpladeEncoder(sys.argv[1])
print(json.dumps({"load_s": time.perf_counter() - start, "entry": str(encoder._documents.session.path.parent)}))
"""
UNCHECKED = """
import json, sys, time
start = time.perf_counter()
import spladekit.model.cache as cache
cache.content_damage = lambda entry: None  # what loading costs with no byte check at all
from spladekit import SpladeEncoder
encoder = SpladeEncoder(sys.argv[1])
print(json.dumps({"load_s": time.perf_counter() - start}))
"""
CHECK = """
import json, sys, time
from pathlib import Path
from spladekit.model.manifest import damage
start = time.perf_counter()
problem = damage(Path(sys.argv[1]))
print(json.dumps({"check_s": time.perf_counter() - start, "problem": problem}))
"""


def run(script: str, argument: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script, argument], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(BENCH / ".cache" / "splade-base"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    first = run(LOAD, args.model)  # makes the entry if needed
    entry = str(first["entry"])
    loads, unchecked, checks = [], [], []
    for _ in range(args.rounds):
        loads.append(float(run(LOAD, args.model)["load_s"]))  # type: ignore[arg-type]
        unchecked.append(float(run(UNCHECKED, args.model)["load_s"]))  # type: ignore[arg-type]
        check = run(CHECK, entry)
        assert check["problem"] is None, check
        checks.append(float(check["check_s"]))  # type: ignore[arg-type]
    size = sum(p.stat().st_size for p in Path(entry).iterdir())
    print(
        json.dumps(
            {
                "entry_bytes": size,
                "load_s_best": round(min(loads), 3),
                "unchecked_load_s_best": round(min(unchecked), 3),
                "check_s_best": round(min(checks), 3),
                "check_share_of_load": round(min(loads) / min(unchecked) - 1, 3),
                "loads": [round(x, 3) for x in loads],
                "unchecked_loads": [round(x, 3) for x in unchecked],
                "checks": [round(x, 3) for x in checks],
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
