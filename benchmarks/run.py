"""Run the benchmarks: each script prints its figures and how they were made.

    .venv/bin/python benchmarks/run.py            # the quick ones
    .venv/bin/python benchmarks/run.py --all      # also the long ones (Rasa side by side, soak...)
    .venv/bin/python benchmarks/run.py NAME ...   # only these (file names without .py)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
# Minutes-long or needing extra installs: only with --all or by name.
LONG = {"nlu_vs_rasa", "reminders_dispatch", "soak"}


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("--")]
    scripts = sorted(p for p in HERE.glob("*.py") if p.stem != "run" and not p.stem.startswith("_"))
    if names:
        scripts = [p for p in scripts if p.stem in names]
    elif "--all" not in argv:
        scripts = [p for p in scripts if p.stem not in LONG]
    failures = 0
    for script in scripts:
        print(f"\n=== {script.stem}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.stem}: exit {code}, {time.perf_counter() - started:.1f} s", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
