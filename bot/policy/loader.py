"""Reads the policy sections (``policy_text/<lang>/NN-<id>.txt``) and ``policy.toml``.

A section file is a small header between ``---`` lines, then the text::

    ---
    id: personal-data
    title: Personal Data
    order: 2
    group: Data collected during visits
    ---
    Personal data is provided voluntarily...

Keys: ``id``, ``title``, ``order`` (required); ``parent`` (id of the enclosing section), ``group`` (a
heading above the section that is not a section itself), ``heading`` (the heading line in the full
document; defaults to the title, empty for none). Anything malformed is refused with the file and problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from pathlib import Path

from bot.policy.models import Policy, Section

LANGUAGES = ("ru", "en")
POLICY_META_FILE = "policy.toml"
_ID = re.compile(r"^[a-z][a-z0-9-]*$")
_REQUIRED = ("id", "title", "order")
_OPTIONAL = ("parent", "group", "heading")


class PolicyLoadError(Exception):
    """A policy file is missing or malformed; the message names the file and the problem."""


def _fail(path: Path, problem: str) -> PolicyLoadError:
    return PolicyLoadError(f"{path}: {problem}")


def parse_section_file(path: Path, lang: str) -> Section:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(path, "not UTF-8 text") from None
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror})") from None
    lines = raw.split("\n")
    if not lines or lines[0].strip() != "---":
        raise _fail(path, "must start with a '---' header line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise _fail(path, "header is not closed with a '---' line") from None
    header: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep:
            raise _fail(path, f"line {number}: expected 'key: value', got {line.strip()!r}")
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise _fail(path, f"line {number}: unknown header key {key!r}")
        if key in header:
            raise _fail(path, f"line {number}: duplicate header key {key!r}")
        header[key] = value.strip()
    for key in _REQUIRED:
        if not header.get(key):
            raise _fail(path, f"missing header key {key!r}")
    section_id = header["id"]
    if not _ID.match(section_id):
        raise _fail(path, f"invalid id {section_id!r} (lowercase letters, digits and '-')")
    try:
        order = int(header["order"])
    except ValueError:
        raise _fail(path, f"order must be a whole number, got {header['order']!r}") from None
    # One trailing newline ends the file; the text itself keeps its inner line breaks exactly.
    body = "\n".join(lines[end + 1:])
    if body.endswith("\n"):
        body = body[:-1]
    if not body.strip():
        raise _fail(path, "the section has no text")
    return Section(
        id=section_id,
        lang=lang,
        title=header["title"],
        order=order,
        text=body,
        parent=header.get("parent") or None,
        group=header.get("group") or None,
        heading=header.get("heading", header["title"]),
        source=path.name,
    )


def _load_language(directory: Path, lang: str) -> list[Section]:
    folder = directory / lang
    if not folder.is_dir():
        raise _fail(folder, "policy language folder not found")
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise _fail(folder, "no section files (*.txt)")
    sections = [parse_section_file(path, lang) for path in files]
    seen_ids: dict[str, str] = {}
    seen_orders: dict[int, str] = {}
    for section in sections:
        if section.id in seen_ids:
            raise _fail(folder / section.source, f"duplicate id {section.id!r} (also in {seen_ids[section.id]})")
        if section.order in seen_orders:
            raise _fail(folder / section.source,
                        f"duplicate order {section.order} (also in {seen_orders[section.order]})")
        seen_ids[section.id] = section.source
        seen_orders[section.order] = section.source
    for section in sections:
        if section.parent is not None and section.parent not in seen_ids:
            raise _fail(folder / section.source, f"parent {section.parent!r} is not a section id")
    return sorted(sections, key=lambda s: s.order)


def policy_version(directory: Path) -> str:
    """A content hash of every section file: any edit gives a new version."""
    digest = hashlib.sha256()
    for lang in LANGUAGES:
        for path in sorted((directory / lang).glob("*.txt")):
            digest.update(f"{lang}/{path.name}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:12]


def _load_meta(directory: Path) -> dt.date:
    path = directory / POLICY_META_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML ({exc})") from None
    effective = data.get("effective_date")
    if not isinstance(effective, dt.date) or isinstance(effective, dt.datetime):
        raise _fail(path, "effective_date must be a date like 2026-01-31")
    return effective


def load_policy(directory: Path) -> Policy:
    directory = Path(directory)
    if not directory.is_dir():
        raise _fail(directory, "policy folder not found")
    effective = _load_meta(directory)
    by_lang = {lang: _load_language(directory, lang) for lang in LANGUAGES}
    every_id = {s.id for sections in by_lang.values() for s in sections}
    for lang, sections in by_lang.items():
        missing = sorted(every_id - {s.id for s in sections})
        if missing:
            others = ", ".join(other for other in LANGUAGES if other != lang)
            raise _fail(directory / lang, f"missing sections {missing} (present in {others})")
    reference = [s.id for s in by_lang[LANGUAGES[0]]]
    for lang in LANGUAGES[1:]:
        if [s.id for s in by_lang[lang]] != reference:
            raise _fail(directory / lang, f"section order differs from {LANGUAGES[0]}")
    return Policy(sections=by_lang, version=policy_version(directory), effective_date=effective)
