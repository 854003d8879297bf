"""What a policy was, section by section, and what changed between two of them.

A snapshot keeps the policy version, its effective date and, per language, each section's title, text and
a content hash (title, heading, group, parent and text: the file name and the ``order`` number are left
out, so inserting a section and renumbering the files changes only the new one). The running bot keeps
the snapshot of the policy it runs with in the database (``bot/policy_reload.py``); ``privacy-bot policy
check`` compares an edited folder with it. The texts are the public policy's own words, no personal data;
they are kept so that a section whose id was changed can still be recognised by its text.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import Translator
from bot.policy.models import Policy, Section

# A removed id and an added one whose texts are at least this alike (0..1, averaged over the languages
# both have) are reported as a likely rename.
RENAME_SIMILARITY = 0.8
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SectionState:
    id: str
    title: str
    hash: str
    text: str = ""


@dataclass(frozen=True)
class PolicySnapshot:
    version: str
    effective_date: str  # ISO date, "" when unknown (a broken policy.toml)
    # lang -> section id -> state, in document order
    sections: Mapping[str, Mapping[str, SectionState]] = field(default_factory=dict)
    # How many times the recorded policy changed in this database: keys the staff notice of each change.
    changes: int = 0

    def ids(self) -> list[str]:
        """Every section id in any language, in document order (the first language's first)."""
        seen: dict[str, None] = {}
        for by_id in self.sections.values():
            for section_id in by_id:
                seen.setdefault(section_id, None)
        return list(seen)

    def title(self, section_id: str, lang: str) -> str:
        state = self.sections.get(lang, {}).get(section_id)
        if state is None:
            for by_id in self.sections.values():
                if section_id in by_id:
                    return by_id[section_id].title
            return section_id
        return state.title

    def to_json(self) -> str:
        return json.dumps({
            "version": self.version,
            "effective_date": self.effective_date,
            "changes": self.changes,
            "sections": {lang: [{"id": s.id, "title": s.title, "hash": s.hash, "text": s.text}
                                for s in by_id.values()] for lang, by_id in self.sections.items()},
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> PolicySnapshot:
        data: dict[str, Any] = json.loads(raw)
        sections = {str(lang): {str(s["id"]): SectionState(id=str(s["id"]), title=str(s.get("title", "")),
                                                             hash=str(s["hash"]), text=str(s.get("text", "")))
                                for s in items}
                    for lang, items in dict(data.get("sections", {})).items()}
        return cls(version=str(data["version"]), effective_date=str(data.get("effective_date", "")),
                   sections=sections, changes=int(data.get("changes", 0)))

    def with_changes(self, changes: int) -> PolicySnapshot:
        return PolicySnapshot(self.version, self.effective_date, self.sections, changes)


def section_hash(section: Section) -> str:
    digest = hashlib.sha256()
    for part in (section.id, section.title, section.heading, section.group or "", section.parent or "",
                 section.text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def snapshot_of_sections(version: str, effective_date: str,
                         sections: Mapping[str, Iterable[Section]]) -> PolicySnapshot:
    return PolicySnapshot(
        version=version, effective_date=effective_date,
        sections={lang: {s.id: SectionState(s.id, s.title, section_hash(s), s.text) for s in items}
                  for lang, items in sections.items()})


def snapshot_of(policy: Policy) -> PolicySnapshot:
    return snapshot_of_sections(policy.version, policy.effective_date.isoformat(), policy.sections)


@dataclass(frozen=True)
class Rename:
    old: str
    new: str
    similarity: float


@dataclass(frozen=True)
class PolicyDiff:
    old: PolicySnapshot | None
    new: PolicySnapshot
    added: list[str]
    removed: list[str]
    # section id -> the languages whose text, title or place changed
    changed: dict[str, list[str]]
    renamed: list[Rename]

    @property
    def sections_changed(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.renamed)

    @property
    def version_changed(self) -> bool:
        return self.old is None or (self.old.version, self.old.effective_date) != (self.new.version,
                                                                                 self.new.effective_date)


def diff(old: PolicySnapshot | None, new: PolicySnapshot) -> PolicyDiff:
    """What changed from ``old`` (None: nothing recorded yet, so nothing to compare) to ``new``."""
    if old is None:
        return PolicyDiff(old=None, new=new, added=[], removed=[], changed={}, renamed=[])
    old_ids, new_ids = old.ids(), new.ids()
    added = [i for i in new_ids if i not in old_ids]
    removed = [i for i in old_ids if i not in new_ids]
    changed: dict[str, list[str]] = {}
    for section_id in new_ids:
        if section_id in added:
            continue
        langs = [lang for lang in dict.fromkeys([*new.sections, *old.sections])
                 if _hash(old, lang, section_id) != _hash(new, lang, section_id)]
        if langs:
            changed[section_id] = langs
    renamed = _renames(old, new, removed, added)
    for rename in renamed:
        removed.remove(rename.old)
        added.remove(rename.new)
    return PolicyDiff(old=old, new=new, added=added, removed=removed, changed=changed, renamed=renamed)


def _hash(snapshot: PolicySnapshot, lang: str, section_id: str) -> str | None:
    state = snapshot.sections.get(lang, {}).get(section_id)
    return state.hash if state else None


def similarity(a: str, b: str) -> float:
    """How alike two texts are, word by word (0..1)."""
    words_a, words_b = _WORD.findall(a.lower()), _WORD.findall(b.lower())
    if not words_a and not words_b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, words_a, words_b, autojunk=False)
    if matcher.real_quick_ratio() < RENAME_SIMILARITY or matcher.quick_ratio() < RENAME_SIMILARITY:
        return matcher.quick_ratio()
    return matcher.ratio()


def _renames(old: PolicySnapshot, new: PolicySnapshot, removed: list[str], added: list[str]) -> list[Rename]:
    candidates: list[Rename] = []
    for old_id in removed:
        for new_id in added:
            scores = []
            for lang in sorted(set(old.sections) & set(new.sections)):
                before, after = old.sections[lang].get(old_id), new.sections[lang].get(new_id)
                if before is not None and after is not None and before.text and after.text:
                    scores.append(similarity(before.text, after.text))
            if scores and sum(scores) / len(scores) >= RENAME_SIMILARITY:
                candidates.append(Rename(old_id, new_id, sum(scores) / len(scores)))
    chosen: list[Rename] = []
    for candidate in sorted(candidates, key=lambda r: -r.similarity):
        if all(candidate.old != r.old and candidate.new != r.new for r in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda r: removed.index(r.old))


def describe(change: PolicyDiff, translator: Translator, lang: str) -> list[str]:
    """One line per added, removed, changed or renamed section (message ids in policy_owner.ftl)."""
    new, old = change.new, change.old
    lines = [translator(lang, "policy-change-added", id=i, title=new.title(i, lang)) for i in change.added]
    if old is not None:
        lines += [translator(lang, "policy-change-removed", id=i, title=old.title(i, lang)) for i in change.removed]
    for section_id, langs in change.changed.items():
        names = ", ".join(translator(lang, "policy-language-name", language=changed) for changed in langs)
        lines.append(translator(lang, "policy-change-changed", id=section_id, title=new.title(section_id, lang),
                                languages=names))
    lines += [translator(lang, "policy-change-renamed", old=r.old, new=r.new, title=new.title(r.new, lang),
                         percent=round(r.similarity * 100)) for r in change.renamed]
    if not lines and change.version_changed and old is not None:
        lines.append(translator(lang, "policy-change-none"))
    return lines
