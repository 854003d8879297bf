"""Print the README's configuration reference table from config.toml (its comments are the source)."""

from __future__ import annotations

import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


def rows(text: str) -> list[tuple[str, str, str]]:
    # A comment block describes the keys right below it; a new block starts after a key line.
    table, comment, out, after_key, in_array = "", [], [], False, False
    for raw in text.splitlines():
        line = raw.strip()
        if in_array:  # the entries of a list written over several lines (shown in config.toml only)
            in_array = line != "]"
        elif line.startswith("[") and line.endswith("]"):
            table, comment, after_key = line[1:-1], [], False
        elif line.startswith("#"):
            if after_key:
                comment, after_key = [], False
            if table:
                comment.append(line.lstrip("# "))
        elif "=" in line and table:
            key, value = (part.strip() for part in line.split("=", 1))
            if value == "[":
                value, in_array = "[…] (see config.toml)", True
            out.append((f"{table}.{key}", value, " ".join(comment)))
            after_key = True
    return out


def main() -> int:
    print("| key | default | meaning |")
    print("|---|---|---|")
    for key, value, meaning in rows(CONFIG.read_text(encoding="utf-8")):
        print(f"| `{key}` | `{value}` | {meaning.replace('|', '/')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
