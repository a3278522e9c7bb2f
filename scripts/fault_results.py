#!/usr/bin/env python3
"""Print the fault suite's results (var/fault-results.json, written by tests/faults/) as a
Markdown table, for the README.

    python3 scripts/fault_results.py [path/to/fault-results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "var" / "fault-results.json"
COLUMNS = (
    ("fault", "Fault"),
    ("events", "Events caused"),
    ("delivered", "E-mails delivered"),
    ("duplicates", "Duplicates"),
    ("lost", "Lost"),
    ("seconds_after_recovery", "Seconds to deliver after recovery"),
    ("seconds_to_mark_sent", "Seconds until every row is marked sent"),
    ("slowest_raise_seconds", "Slowest raise during the fault (s)"),
)


def table(results: dict[str, dict]) -> str:
    lines = [
        "| " + " | ".join(title for _key, title in COLUMNS) + " |",
        "|" + "|".join("---" if key == "fault" else "--:" for key, _title in COLUMNS) + "|",
    ]
    for _name, result in sorted(results.items()):
        lines.append("| " + " | ".join(str(result.get(key, "")) for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def main(arguments: list[str]) -> int:
    path = Path(arguments[0]) if arguments else DEFAULT
    try:
        results = json.loads(path.read_text())
    except FileNotFoundError:
        print(f"No results at {path}: run the fault suite first (pytest tests/faults).")
        return 1
    except ValueError:
        print(f"{path} is not the fault suite's JSON.")
        return 1
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
