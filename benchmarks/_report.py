"""The report every benchmark prints and saves: a header naming the machine and its load, lines, the load at
the end (benchmarks/results/ keeps each figure beside the load it was measured under)."""
from __future__ import annotations

import os
import time
from pathlib import Path


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "n/a"


class Report:
    """``say`` prints a line and keeps it; ``save`` writes the kept lines."""

    def __init__(self, title: str, extra: str = ""):
        self.lines: list[str] = []
        self.say(f"{title} ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs{extra})")
        self.say(f"/proc/loadavg at start: {loadavg()}")

    def say(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        print(f"saved {path}")
