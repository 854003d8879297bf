"""Curated knowledge beside the section texts: ``policy_text/examples/<lang>/``.

- ``lexicon.toml``: ``stopwords``, ``overrides`` (word form -> lemma), ``synonyms`` (groups; the first
  member names the group);
- ``intents.toml``: one table per non-question intent with ``examples``;
- ``sections.toml``: one table per section id with ``examples``: questions the policy owner expects;
- ``asked.jsonl`` (optional): messages real people sent, one per line: ``{"text": ..., "section": ...}`` for
  a question (``"section": null``: a question the policy does not answer), ``{"text": ..., "intent": ...}``
  for any other message (deletion, greeting, ...), exported from the labelled tuning sets by
  ``scripts/export_asked.py`` (never from a held-out set). Its first line may name the sections the labels
  were given against, ``{"labelled_against": [ids]}``: a section added since could answer a question
  labelled "not in the policy" or another section then (see ``engine.build_model``).

There are no cue phrases, required words or other hand-written rules: which label a message gets is
learnt from these examples and the section texts (see ``engine.py``).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.policy.loader import PolicyLoadError
from bot.policy.models import Intent

EXAMPLES_DIR = "examples"
ASKED_FILE = "asked.jsonl"
NON_QUESTION_INTENTS = tuple(i.value for i in Intent if i is not Intent.QUESTION)


@dataclass
class LabelData:
    examples: list[str] = field(default_factory=list)


@dataclass
class Curated:
    stopwords: list[str]
    overrides: dict[str, str]
    synonyms: list[list[str]]
    intents: dict[str, LabelData]
    sections: dict[str, LabelData]
    # (text, section id) of questions people asked, from the labelled tuning sets; None: not in the policy.
    asked: list[tuple[str, str | None]] = field(default_factory=list)
    # (text, intent) of their other messages.
    asked_intents: list[tuple[str, str]] = field(default_factory=list)
    # The sections that existed when ``asked`` was labelled; None: the labels are as new as the policy.
    labelled_against: frozenset[str] | None = None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyLoadError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyLoadError(f"{path}: not valid TOML ({exc})") from None


def _strings(path: Path, where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyLoadError(f"{path}: {where} must be a list of strings")
    return list(value)


def _label(path: Path, name: str, table: Any) -> LabelData:
    if not isinstance(table, dict):
        raise PolicyLoadError(f"{path}: [{name}] must be a table")
    unknown = set(table) - {"examples"}
    if unknown:
        raise PolicyLoadError(f"{path}: [{name}] unknown key {sorted(unknown)[0]!r} (only examples are read)")
    data = LabelData(examples=_strings(path, f"[{name}] examples", table.get("examples", [])))
    if not data.examples:
        raise PolicyLoadError(f"{path}: [{name}] needs at least one example")
    return data


def load_curated(policy_dir: Path, lang: str, section_ids: list[str]) -> Curated:
    folder = policy_dir / EXAMPLES_DIR / lang
    lexicon_path = folder / "lexicon.toml"
    lexicon = _read(lexicon_path)
    synonyms = lexicon.get("synonyms", [])
    if not isinstance(synonyms, list) or not all(
            isinstance(g, list) and g and all(isinstance(w, str) for w in g) for g in synonyms):
        raise PolicyLoadError(f"{lexicon_path}: synonyms must be a list of non-empty lists of strings")
    overrides = lexicon.get("overrides", {})
    if not isinstance(overrides, dict) or not all(isinstance(v, str) for v in overrides.values()):
        raise PolicyLoadError(f"{lexicon_path}: overrides must be a table of strings")

    intents_path = folder / "intents.toml"
    intents_raw = _read(intents_path)
    for name in intents_raw:
        if name not in NON_QUESTION_INTENTS:
            raise PolicyLoadError(f"{intents_path}: [{name}] is not an intent ({', '.join(NON_QUESTION_INTENTS)})")
    missing_intents = [name for name in NON_QUESTION_INTENTS if name not in intents_raw]
    if missing_intents:
        raise PolicyLoadError(f"{intents_path}: missing intent table [{missing_intents[0]}]")

    labelled_against, asked = _asked(folder / ASKED_FILE, section_ids)
    sections_path = folder / "sections.toml"
    sections_raw = _read(sections_path)
    for name in sections_raw:
        if name not in section_ids:
            raise PolicyLoadError(f"{sections_path}: [{name}] is not a section id")
    return Curated(
        asked=[(text, label) for text, kind, label in asked if kind == "section"],
        asked_intents=[(text, label) for text, kind, label in asked if kind == "intent" and label is not None],
        labelled_against=labelled_against,
        stopwords=_strings(lexicon_path, "stopwords", lexicon.get("stopwords", [])),
        overrides={str(k): str(v) for k, v in overrides.items()},
        synonyms=[list(g) for g in synonyms],
        intents={name: _label(intents_path, name, table) for name, table in intents_raw.items()},
        sections={name: _label(sections_path, name, table) for name, table in sections_raw.items()},
    )


def _asked(path: Path, section_ids: list[str]) -> tuple[frozenset[str] | None, list[tuple[str, str, str | None]]]:
    """The sections the file's labels were given against (None: not said), and its messages as (text,
    "section" or "intent", label); absent means none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None, []
    asked: list[tuple[str, str, str | None]] = []
    labelled_against: frozenset[str] | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PolicyLoadError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if number == 1 and isinstance(row, dict) and "labelled_against" in row:
            ids = row["labelled_against"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise PolicyLoadError(f"{path}:1: \"labelled_against\" is a list of section ids")
            labelled_against = frozenset(ids)
            continue
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
            raise PolicyLoadError(f"{path}:{number}: needs a non-empty \"text\"")
        if "intent" in row:
            if row["intent"] not in NON_QUESTION_INTENTS:
                raise PolicyLoadError(f"{path}:{number}: {row['intent']!r} is not an intent "
                                      f"({', '.join(NON_QUESTION_INTENTS)})")
            asked.append((row["text"], "intent", row["intent"]))
            continue
        if "section" not in row or (row["section"] is not None and row["section"] not in section_ids):
            raise PolicyLoadError(f"{path}:{number}: {row.get('section')!r} is not a section id")
        asked.append((row["text"], "section", row["section"]))
    return labelled_against, asked
