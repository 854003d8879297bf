"""Export the messages of the labelled tuning sets as engine examples: policy_text/examples/<lang>/asked.jsonl.

The engine learns from what people really wrote, not only from the curated examples: a question with its
section, any other message with its intent (deletion, access, off-topic, ...). Only the tuning
sets are exported (dev*.jsonl and the *-dev.jsonl sets: questions the policy does not answer, quote
questions); the held-out sets (holdout*.jsonl, quotes.jsonl) stay unseen so their figures keep meaning
something.
A test checks the exported files match the tuning sets.

    python3 scripts/export_asked.py          # rewrite the files
    python3 scripts/export_asked.py --check  # exit 1 when they are out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = ROOT / "tests" / "data" / "messages"
LANGUAGES = ("en", "ru")


def normal(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def held_out_sets() -> list[Path]:
    return [*sorted(MESSAGES.glob("holdout*.jsonl")), MESSAGES / "quotes.jsonl"]


def held_out_texts() -> set[str]:
    return {normal(json.loads(line)["text"]) for path in held_out_sets()
            for line in path.read_text(encoding="utf-8").splitlines()}


def tuning_sets() -> list[Path]:
    """Every dev*.jsonl, in number order (dev, dev2, ..., dev10): a new batch is picked up by its name."""
    def number(path: Path) -> int:
        digits = path.stem.removeprefix("dev")
        return int(digits) if digits else 1
    return [*sorted(MESSAGES.glob("dev*.jsonl"), key=number), *sorted(MESSAGES.glob("*-dev.jsonl"))]


def exported() -> dict[str, str]:
    # Short common questions ("how do you protect my data?") occur in tuning and held-out sets alike;
    # such a question is left out, or the held-out figure would count it as learnt.
    held_out = held_out_texts()
    lines: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for path in tuning_sets():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if normal(row["text"]) in held_out:
                continue
            label = {"section": row["section"]} if row["intent"] == "question" else {"intent": row["intent"]}
            lines[row["lang"]].append(json.dumps({"text": row["text"], **label}, ensure_ascii=False))
    # The sections the labels were given against: a section added later may answer some of them.
    header = json.dumps({"labelled_against": section_ids()})
    return {lang: "\n".join([header, *rows]) + "\n" for lang, rows in lines.items()}


def section_ids() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from bot.policy.loader import load_policy
    return [section.id for section in load_policy(ROOT / "policy_text").sections["en"]]


def target(lang: str) -> Path:
    return ROOT / "policy_text" / "examples" / lang / "asked.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for lang, text in exported().items():
        path = target(lang)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python3 scripts/export_asked.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
