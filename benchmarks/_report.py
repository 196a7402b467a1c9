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


#: The line above the earlier runs in a saved results file.
EARLIER = "# ---- earlier runs of the same script"


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
        """Write this run at the top of ``path``; the runs already there follow under one ``EARLIER`` line
        (newest first), so a saved figure is never lost by the next run."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(self.lines) + "\n"
        if path.exists():
            before = path.read_text(encoding="utf-8")
            head, mark, rest = before.partition(EARLIER)
            older = rest.split("\n", 1)[1] if mark and "\n" in rest else ""
            text += f"\n{EARLIER} (each with its own load), newest first ----\n\n{head.rstrip()}\n\n{older.lstrip()}"
        path.write_text(text.rstrip() + "\n", encoding="utf-8")
        print(f"saved {path}")
