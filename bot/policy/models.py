"""Plain data the engine loads and returns; no behaviour beyond small helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Intent(StrEnum):
    QUESTION = "question"
    DELETION = "deletion"
    CORRECTION = "correction"
    ACCESS = "access"
    HUMAN = "human"
    OUT_OF_SCOPE = "out_of_scope"
    GREETING = "greeting"


# Intents that are requests about the person's own data or a wish for a person; never answered with a section.
REQUEST_INTENTS = frozenset({Intent.DELETION, Intent.CORRECTION, Intent.ACCESS, Intent.HUMAN})


@dataclass(frozen=True)
class Section:
    id: str
    lang: str
    title: str
    order: int
    text: str
    parent: str | None = None
    # A heading above this section in the full document that is not a section itself
    # ("Data collected during visits").
    group: str | None = None
    # The heading line in the full document; "" when the section has none (the opening paragraph).
    heading: str = ""
    source: str = ""

    @property
    def paragraphs(self) -> list[str]:
        return [line for line in self.text.split("\n") if line.strip()]


@dataclass(frozen=True)
class Policy:
    sections: dict[str, list[Section]]  # lang -> sections in order
    version: str
    effective_date: dt.date

    def section(self, lang: str, section_id: str) -> Section | None:
        for section in self.sections.get(lang, []):
            if section.id == section_id:
                return section
        return None

    def full_text(self, lang: str) -> str:
        """The whole policy as one document, headings included, rebuilt from the sections."""
        lines: list[str] = []
        group: str | None = None
        for section in self.sections[lang]:
            if section.group and section.group != group:
                lines.append(section.group)
            group = section.group
            if section.heading:
                lines.append(section.heading)
            lines.append(section.text)
        return "\n".join(lines)


@dataclass(frozen=True)
class RankedSection:
    id: str
    title: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Answer:
    """What a person is shown: quoted policy text, the section title and the link to the full policy."""

    section_id: str
    title: str
    quote: str
    url: str
    text: str  # the rendered answer


@dataclass(frozen=True)
class Understanding:
    lang: str
    intent: Intent
    confidence: float
    sections: list[RankedSection]
    answer: Answer | None
    policy_version: str
    abstained: bool = False
    # The question is about something the policy does not say (not merely unclear): abstained too.
    unanswered: bool = False
    # Labels that matched, for staff and debugging; never contains the message itself.
    explanation: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "intent": self.intent.value,
            "confidence": round(self.confidence, 4),
            "sections": [s.as_dict() for s in self.sections],
            "answer": self.answer.text if self.answer else None,
            "abstained": self.abstained,
            "unanswered": self.unanswered,
            "policy_version": self.policy_version,
        }
