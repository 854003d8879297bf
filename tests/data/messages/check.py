"""Validate the labelled message sets and print their counts.

Run: .venv/bin/python tests/data/messages/check.py
Exits non-zero on any problem, so it can guard edits to dev.jsonl / dev34.jsonl (the first two sets).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = ("dev.jsonl", "dev34.jsonl")  # dev34 was holdout.jsonl until issue 11

# Labels exactly as defined in docs/labelling-guide.md.
INTENTS = ("question", "deletion", "correction", "access", "human", "greeting", "out_of_scope")
SECTIONS = (
    "scope",
    "personal-data",
    "non-personal-data",
    "disclosure",
    "public-access",
    "legal-requirement",
    "service-delivery",
    "third-party-services",
    "protection",
    "consent",
    "disclaimer",
    "changes",
    "contact",
)
LANGS = ("ru", "en")
CHANNELS = ("chat", "email")
REQUIRED_KEYS = {"id", "lang", "text", "intent", "section", "channel"}
OPTIONAL_KEYS = {"also"}

# Minimums per language over both files, from the dataset brief.
MIN_PER_LANG = 220
MIN_PER_SECTION = 8
MIN_PER_OTHER_INTENT = 12
MIN_OUT_OF_SCOPE = 20

Row = dict[str, object]


def load(name: str, errors: list[str]) -> list[Row]:
    rows: list[Row] = []
    for lineno, line in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), 1):
        where = f"{name}:{lineno}"
        if not line.strip():
            errors.append(f"{where}: empty line")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        if not isinstance(row, dict):
            errors.append(f"{where}: not an object")
            continue
        check_row(row, where, errors)
        rows.append(row)
    return rows


def check_row(row: Row, where: str, errors: list[str]) -> None:
    keys = set(row)
    if missing := REQUIRED_KEYS - keys:
        errors.append(f"{where}: missing keys {sorted(missing)}")
    if extra := keys - REQUIRED_KEYS - OPTIONAL_KEYS:
        errors.append(f"{where}: unknown keys {sorted(extra)}")
    lang, intent, section = row.get("lang"), row.get("intent"), row.get("section")
    if lang not in LANGS:
        errors.append(f"{where}: bad lang {lang!r}")
    elif not str(row.get("id", "")).startswith(f"{lang}-"):
        errors.append(f"{where}: id {row.get('id')!r} does not start with {lang}-")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{where}: empty text")
    if intent not in INTENTS:
        errors.append(f"{where}: bad intent {intent!r}")
    if row.get("channel") not in CHANNELS:
        errors.append(f"{where}: bad channel {row.get('channel')!r}")
    if intent == "question":
        if section not in SECTIONS:
            errors.append(f"{where}: question with bad section {section!r}")
    elif section is not None:
        errors.append(f"{where}: section must be null for intent {intent!r}")
    if "also" in row:
        also = row["also"]
        if intent != "question":
            errors.append(f"{where}: 'also' only for questions")
        if not isinstance(also, list) or not also:
            errors.append(f"{where}: 'also' must be a non-empty list")
        else:
            for alt in also:
                if alt not in SECTIONS or alt == section:
                    errors.append(f"{where}: bad 'also' section {alt!r}")


def label(row: Row) -> str:
    return f"question/{row['section']}" if row["intent"] == "question" else str(row["intent"])


def table(sets: dict[str, list[Row]]) -> str:
    labels = [i for i in INTENTS if i != "question"] + [f"question/{s}" for s in SECTIONS]
    cols = [(name, lang) for name in sets for lang in LANGS]
    counts = {col: Counter(label(r) for r in sets[col[0]] if r["lang"] == col[1]) for col in cols}
    head = f"{'label':33}" + "".join(f"{name.split('.')[0] + '/' + lang:>14}" for name, lang in cols)
    lines = [head]
    for lab in labels:
        lines.append(f"{lab:33}" + "".join(f"{counts[c][lab]:>14}" for c in cols))
    totals = [sum(counts[c].values()) for c in cols]
    questions = [sum(v for k, v in counts[c].items() if k.startswith("question/")) for c in cols]
    emails = [sum(1 for r in sets[c[0]] if r["lang"] == c[1] and r["channel"] == "email") for c in cols]
    also = [sum(1 for r in sets[c[0]] if r["lang"] == c[1] and "also" in r) for c in cols]
    for name, values in (("questions", questions), ("emails", emails), ("with also", also), ("TOTAL", totals)):
        lines.append(f"{name:33}" + "".join(f"{v:>14}" for v in values))
    return "\n".join(lines)


def check_sets(sets: dict[str, list[Row]], errors: list[str]) -> None:
    everything = [r for rows in sets.values() for r in rows]
    ids = Counter(str(r.get("id")) for r in everything)
    errors += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    texts = Counter(" ".join(str(r.get("text", "")).lower().split()) for r in everything)
    errors += [f"duplicate text {t[:60]!r}" for t, n in texts.items() if n > 1]
    for lang in LANGS:
        rows = [r for r in everything if r.get("lang") == lang]
        by_label = Counter(label(r) for r in rows)
        if len(rows) < MIN_PER_LANG:
            errors.append(f"{lang}: {len(rows)} messages < {MIN_PER_LANG}")
        for s in SECTIONS:
            if by_label[f"question/{s}"] < MIN_PER_SECTION:
                errors.append(f"{lang}: section {s} has {by_label[f'question/{s}']} < {MIN_PER_SECTION}")
        for i in INTENTS:
            need = MIN_OUT_OF_SCOPE if i == "out_of_scope" else MIN_PER_OTHER_INTENT
            if i != "question" and by_label[i] < need:
                errors.append(f"{lang}: intent {i} has {by_label[i]} < {need}")
        # Stratified split: every label in both files for each language.
        for name, file_rows in sets.items():
            present = {label(r) for r in file_rows if r.get("lang") == lang}
            for lab in by_label:
                if lab not in present:
                    errors.append(f"{name}: no {lang} message labelled {lab}")


def main() -> int:
    errors: list[str] = []
    sets = {name: load(name, errors) for name in FILES}
    if not errors:
        check_sets(sets, errors)
        print(table(sets))
    for err in errors:
        print("ERROR:", err, file=sys.stderr)
    print("OK" if not errors else f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
