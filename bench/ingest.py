"""Contact-list ingest: a million CSV rows read, checked and handed on, against a bare
`csv` read plus `phonenumbers.parse` of the same file.

Each side runs in a fresh interpreter so its peak resident memory is its own. Ours hands
the contacts to a book that keeps nothing (`CheckOnly`, as `ingest --check` does): what is
measured is reading and checking (streamed, duplicates found, zones looked up); writing to
DynamoDB is the table's pace, not ours. The list mixes area codes, formats and 1 % bad
or repeated numbers, as real lists do.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from devkit.local_aws import ROOT

ROWS = 1_000_000
SMALL = 200_000
AREAS = ["212", "305", "415", "617", "312", "713", "206", "928", "404", "702", "250", "416"]

PEAK = """
def peak_mb():
    # The high-water mark of this process's own memory: ru_maxrss would carry over the
    # parent's (bench.run, holding moto tables) across fork and exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

OURS = (
    PEAK
    + """
import io, json, resource, sys, time
from datetime import UTC, datetime
from chalicelib.dialer.contacts import read_contacts
from chalicelib.dialer.service import CheckOnly, ingest

started = time.perf_counter()
with open(sys.argv[1], encoding="utf-8-sig", newline="") as stream:
    report = ingest(read_contacts(stream, "csv"), CheckOnly(), "bench", datetime.now(UTC))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "rows": report.rows,
                  "added": report.added, "rejected": report.rejected}))
"""
)

BARE = (
    PEAK
    + """
import csv, json, resource, sys, time
import phonenumbers

started = time.perf_counter()
rows = 0
with open(sys.argv[1], encoding="utf-8-sig", newline="") as stream:
    reader = csv.reader(stream)
    next(reader)
    for row in reader:
        rows += 1
        try:
            phonenumbers.parse(row[0], "US")
        except phonenumbers.NumberParseException:
            pass
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "rows": rows}))
"""
)


def write_list(path: Path, rows: int, seed: int = 7) -> None:
    generator = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("phone,name,plan\n")
        for n in range(rows):
            number = f"{generator.choice(AREAS)}{generator.randint(2_000_000, 9_999_999)}"
            shape = generator.random()
            if shape < 0.005:
                text = "not-a-number"
            elif shape < 0.01:
                text = "+12125550142"  # repeated
            elif shape < 0.3:
                text = f"({number[:3]}) {number[3:6]}-{number[6:]}"
            else:
                text = f"+1{number}"
            out.write(f'{text},"Customer {n}",{generator.choice(["gold", "silver", ""])}\n')


def _run(code: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(rows: int = ROWS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder, "small.csv"), Path(folder, "large.csv")
        write_list(small, SMALL)
        write_list(large, rows)
        # Alternated, best of two each: the machine's noise moves one run, not a side.
        runs = [(_run(OURS, large), _run(BARE, large)) for _ in range(2)]
        ours = min((o for o, _ in runs), key=lambda r: r["seconds"])
        bare = min((b for _, b in runs), key=lambda r: r["seconds"])
        ours_small = _run(OURS, small)
    return {
        "rows": rows,
        "ours": ours,
        "bare": bare,
        "ratio": ours["seconds"] / bare["seconds"],
        "rows_per_s": rows / ours["seconds"],
        "peak_small_mb": ours_small["peak_mb"],
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
