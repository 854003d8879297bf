"""``privacy-bot policy check``: every problem of an edited policy folder, one per line, before the bot sees it.

The bot refuses a malformed folder at start and on reload with the first problem it meets; this check
reports all of them, and the ones the bot accepts but the owner should not ship:

- a malformed section file or ``policy.toml`` (the loader's own checks, ``bot/policy/loader.py``: one
  problem per file), a duplicate id or order, a parent that is not a section;
- a section in one language and not the other; a different order or parent in Russian and English;
- a section with fewer than ``MIN_EXAMPLES`` example questions in a language (its ``examples`` in
  ``examples/<lang>/sections.toml`` plus the lines of ``asked.jsonl`` naming it);
- examples naming a section id that does not exist (a ``sections.toml`` table, ``asked.jsonl`` lines);
- anything else the engine's example files refuse (``bot/policy/curated.py``, first problem per file).

Problems are data (a place, a Fluent message id and its arguments); the command line renders them in the
configured language.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.i18n import Translator
from bot.policy.curated import ASKED_FILE, EXAMPLES_DIR, load_curated
from bot.policy.loader import (
    LANGUAGES,
    PolicyLoadError,
    _load_meta,
    parse_section_file,
    policy_version,
)
from bot.policy.models import Section
from bot.policy.snapshot import PolicySnapshot, snapshot_of_sections

MIN_EXAMPLES = 5
SECTIONS_FILE = "sections.toml"
# asked.jsonl lines listed by number in one problem; the rest are counted.
LINES_SHOWN = 10
_HEADER_ID = re.compile(r"^\s*id\s*:\s*([a-z][a-z0-9-]*)\s*$", re.MULTILINE)
_FILE_ID = re.compile(r"^\d+-([a-z][a-z0-9-]*)\.txt$")


@dataclass(frozen=True)
class Phrase:
    """An argument that is itself a message (rendered in the problem's language first)."""

    message: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    # the file or folder at fault ("" when the message names it itself, as the loader's messages do)
    where: str
    # a message id of bot/locales/<lang>/policy_owner.ftl
    message: str
    args: dict[str, Any] = field(default_factory=dict)

    def render(self, translator: Translator, lang: str) -> str:
        args = {name: translator(lang, value.message, **value.args) if isinstance(value, Phrase) else value
                for name, value in self.args.items()}
        text = translator(lang, self.message, **args)
        return f"{self.where}: {text}" if self.where else text


@dataclass
class CheckResult:
    directory: Path
    problems: list[Problem]
    version: str
    effective_date: str  # "" when policy.toml is broken
    # what parsed, per language, in document order (the first file of a duplicate id only)
    sections: dict[str, list[Section]]
    # worth knowing, not wrong: labels given before sections existed
    notes: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def snapshot(self) -> PolicySnapshot:
        return snapshot_of_sections(self.version, self.effective_date, self.sections)


def _malformed(error: PolicyLoadError | str) -> Problem:
    return Problem("", "policy-check-malformed", {"problem": str(error)})


@dataclass
class _Language:
    folder: Path
    parsed: list[Section] = field(default_factory=list)
    # ids of files that did not parse (from their header or file name), so that their absence is not
    # reported again as a missing section or an unknown id
    broken_ids: set[str] = field(default_factory=set)
    unique: dict[str, Section] = field(default_factory=dict)

    @property
    def known_ids(self) -> set[str]:
        return set(self.unique) | self.broken_ids


def check_policy(directory: Path | str, *,
                 section_id_check: Callable[[str], str | None] | None = None) -> CheckResult:
    """Every problem of the folder. ``section_id_check(id)`` may add one: a channel's limit on ids
    (Telegram's button data), returned as the problem's text, or None."""
    directory = Path(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        problems.append(_malformed(f"{directory}: policy folder not found"))
        return CheckResult(directory, problems, "", "", {lang: [] for lang in LANGUAGES})
    effective = ""
    try:
        effective = _load_meta(directory).isoformat()
    except PolicyLoadError as exc:
        problems.append(_malformed(exc))
    languages = {lang: _read_language(directory, lang, problems) for lang in LANGUAGES}
    _compare_languages(directory, languages, problems)
    notes: list[Problem] = []
    for lang, language in languages.items():
        _check_examples(directory, lang, language, problems)
        _note_older_labels(directory / EXAMPLES_DIR / lang / ASKED_FILE, language, notes)
    if section_id_check is not None:
        ids = dict.fromkeys(s.id for language in languages.values() for s in language.unique.values())
        for section_id in ids:
            complaint = section_id_check(section_id)
            if complaint:
                problems.append(Problem(str(_file_of(languages, section_id)), "policy-check-malformed",
                                        {"problem": complaint}))
    sections = {lang: sorted(language.unique.values(), key=lambda s: s.order) for lang, language in languages.items()}
    return CheckResult(directory, problems, policy_version(directory), effective, sections, notes)


def _note_older_labels(asked_path: Path, language: _Language, notes: list[Problem]) -> None:
    """asked.jsonl labelled before some sections existed: the engine sets aside its labels that now read
    as a new section's (``engine.set_aside_stale``) until they are labelled again."""
    for number, row in _asked_rows(asked_path):
        if number == 1 and isinstance(row.get("labelled_against"), list):
            newer = sorted(language.known_ids - set(row["labelled_against"]))
            if newer:
                notes.append(Problem(str(asked_path), "policy-check-older-labels", {"ids": ", ".join(newer)}))
        return


def _file_of(languages: dict[str, _Language], section_id: str) -> Path:
    for language in languages.values():
        if section_id in language.unique:
            return language.folder / language.unique[section_id].source
    return next(iter(languages.values())).folder


def _read_language(directory: Path, lang: str, problems: list[Problem]) -> _Language:
    folder = directory / lang
    language = _Language(folder)
    if not folder.is_dir():
        problems.append(_malformed(f"{folder}: policy language folder not found"))
        return language
    files = sorted(folder.glob("*.txt"))
    if not files:
        problems.append(_malformed(f"{folder}: no section files (*.txt)"))
        return language
    for path in files:
        try:
            language.parsed.append(parse_section_file(path, lang))
        except PolicyLoadError as exc:
            problems.append(_malformed(exc))
            guessed = _guess_id(path)
            if guessed:
                language.broken_ids.add(guessed)
    orders: dict[int, str] = {}
    for section in language.parsed:
        where = str(folder / section.source)
        if section.id in language.unique:
            problems.append(Problem(where, "policy-check-duplicate-id",
                                    {"id": section.id, "other": language.unique[section.id].source}))
        else:
            language.unique[section.id] = section
        if section.order in orders:
            problems.append(Problem(where, "policy-check-duplicate-order",
                                    {"order": section.order, "other": orders[section.order]}))
        else:
            orders[section.order] = section.source
    for section in language.parsed:
        if section.parent is not None and section.parent not in language.known_ids:
            problems.append(Problem(str(folder / section.source), "policy-check-unknown-parent",
                                    {"parent": section.parent}))
    return language


def _guess_id(path: Path) -> str | None:
    try:
        header = path.read_text(encoding="utf-8", errors="replace").split("\n---", 2)
    except OSError:
        header = []
    found = _HEADER_ID.search(header[0]) if header else None
    if found:
        return found.group(1)
    by_name = _FILE_ID.match(path.name)
    return by_name.group(1) if by_name else None


def _compare_languages(directory: Path, languages: dict[str, _Language], problems: list[Problem]) -> None:
    for lang, language in languages.items():
        if not language.folder.is_dir():
            continue
        for other_lang, other in languages.items():
            if other_lang == lang or not other.folder.is_dir():
                continue
            for section_id, section in other.unique.items():
                if section_id not in language.known_ids:
                    problems.append(Problem(str(language.folder), "policy-check-missing-in-language",
                                            {"id": section_id, "other_lang": other_lang,
                                             "other_file": str(other.folder / section.source)}))
    reference_lang, *others = LANGUAGES
    reference = languages[reference_lang]
    for lang in others:
        language = languages[lang]
        common = set(reference.unique) & set(language.unique)
        reference_order = [s.id for s in sorted(reference.unique.values(), key=lambda s: s.order) if s.id in common]
        own_order = [s.id for s in sorted(language.unique.values(), key=lambda s: s.order) if s.id in common]
        # Each section is named by what it follows, so one moved section is one or two lines, not a list
        # of every section between its two places.
        for position, section_id in enumerate(own_order):
            index = reference_order.index(section_id)
            after = own_order[position - 1] if position else None
            other_after = reference_order[index - 1] if index else None
            if after != other_after:
                problems.append(Problem(str(language.folder / language.unique[section_id].source),
                                        "policy-check-order-mismatch",
                                        {"id": section_id, "after": _follows(after),
                                         "other_after": _follows(other_after), "other_lang": reference_lang}))
        for section_id in own_order:
            mine, theirs = language.unique[section_id].parent, reference.unique[section_id].parent
            if mine != theirs:
                problems.append(Problem(str(language.folder / language.unique[section_id].source),
                                        "policy-check-parent-mismatch",
                                        {"id": section_id, "parent": mine or "-", "other_parent": theirs or "-",
                                         "other_lang": reference_lang}))


def _follows(section_id: str | None) -> Phrase:
    if section_id is None:
        return Phrase("policy-check-order-start")
    return Phrase("policy-check-section-name", {"id": section_id})


def _check_examples(directory: Path, lang: str, language: _Language, problems: list[Problem]) -> None:
    folder = directory / EXAMPLES_DIR / lang
    counts: dict[str, int] = defaultdict(int)
    referenced: set[str] = set()
    # The files whose problems were reported here, so the engine's loader's first problem is not repeated.
    reported: set[Path] = set()

    sections_path = folder / SECTIONS_FILE
    tables: dict[str, Any] = {}
    try:
        tables = tomllib.loads(sections_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pass  # the engine's loader names the problem below
    for name, table in tables.items():
        if name not in language.known_ids:
            referenced.add(name)
            reported.add(sections_path)
            problems.append(Problem(str(sections_path), "policy-check-unknown-table", {"id": name}))
        examples = table.get("examples", []) if isinstance(table, dict) else []
        counts[name] += len(examples) if isinstance(examples, list) else 0

    asked_path = folder / ASKED_FILE
    unknown_lines: dict[str, list[int]] = defaultdict(list)
    for number, row in _asked_rows(asked_path):
        section = row.get("section")
        if "intent" in row or not isinstance(section, str):
            continue
        if section in language.known_ids:
            counts[section] += 1
        else:
            unknown_lines[section].append(number)
    for section_id, numbers in unknown_lines.items():
        referenced.add(section_id)
        reported.add(asked_path)
        shown = ", ".join(str(n) for n in numbers[:LINES_SHOWN])
        problems.append(Problem(str(asked_path), "policy-check-unknown-asked",
                                {"id": section_id, "count": len(numbers), "lines": shown,
                                 "more": max(0, len(numbers) - LINES_SHOWN)}))

    for section in sorted(language.unique.values(), key=lambda s: s.order):
        if counts[section.id] < MIN_EXAMPLES:
            problems.append(Problem(str(sections_path), "policy-check-few-examples",
                                    {"id": section.id, "count": counts[section.id], "min": MIN_EXAMPLES,
                                     "language": lang}))

    if not folder.is_dir():
        problems.append(_malformed(f"{folder}: examples folder not found"))
        return
    try:
        load_curated(directory, lang, sorted(language.known_ids | referenced))
    except PolicyLoadError as exc:
        if not any(str(exc).startswith(str(path)) for path in reported):
            problems.append(_malformed(exc))


def _asked_rows(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    """The well-formed lines of asked.jsonl with their numbers (the engine's loader reports the others)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            yield number, row
