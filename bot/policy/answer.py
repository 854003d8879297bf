"""The answer a person sees: the policy's own words (never generated), the section title, the policy
version and the link.

What is quoted: the sentences closest to the question are marked (``MARK``); a section up to
``WHOLE_SECTION_CHARS`` is quoted whole around them, a longer one by the paragraphs that hold them (the
first paragraph always). A section whose text leads to its sub-sections ("except in the
cases listed below") is followed by their titles. Both constants come from ``bench/quotes.py`` on the
quote tuning set (``tests/data/messages/quotes-dev.jsonl``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.i18n import Translator, format_date
from bot.policy.models import Answer, Section

# (`.venv/bin/python bench/quotes.py --whole-chars 700 1000 1300`: at 700 and 1000 the answering sentences
# were in the quote for 0.925 of the tuning questions per language, at 1300 for all of them.)
WHOLE_SECTION_CHARS = 1300
# A sentence is marked when it is at least this close to the question relative to the closest one.
MARK_SHARE = 0.6
MAX_MARKED = 3
MARK = "▶ "
ELLIPSIS = "[…]"
# A sentence ends at . ! ? ; or … followed by a space; a paragraph (a line of the section file) always ends one.
_SENTENCE_END = re.compile(r"(?<=[.!?;…])\s+")


class Vectorises(Protocol):
    def vector(self, tokens: Sequence[str]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]: ...


def section_sentences(section: Section) -> list[tuple[int, str]]:
    """(paragraph number, sentence) for every sentence of a section, in order."""
    return [(number, sentence) for number, paragraph in enumerate(section.paragraphs)
            for sentence in _SENTENCE_END.split(paragraph.strip()) if sentence.strip()]


SentenceVector = tuple[list[int], list[float]]


def sentence_vectors(vectoriser: Vectorises, sentence_tokens: Sequence[Sequence[str]]) -> list[SentenceVector]:
    """Each sentence's (columns, values): the same for every question, so an engine computes them once."""
    vectors = []
    for tokens in sentence_tokens:
        columns, values = vectoriser.vector(tokens)
        vectors.append((columns.tolist(), values.tolist()))
    return vectors


def choose_sentences(vectoriser: Vectorises, sentence_tokens: Sequence[Sequence[str]],
                     query: tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]],
                     section: Section, vectors: Sequence[SentenceVector] | None = None) -> tuple[list[int], list[int]]:
    """(sentences to quote, sentences to mark), as indexes into ``section_sentences``; ``vectors``:
    ``sentence_vectors`` of ``sentence_tokens``, when already known."""
    spans = section_sentences(section)
    query_vector = dict(zip(query[0].tolist(), query[1].tolist(), strict=True))
    closeness: list[float] = []
    for columns, values in vectors if vectors is not None else sentence_vectors(vectoriser, sentence_tokens):
        closeness.append(sum(query_vector.get(c, 0.0) * v for c, v in zip(columns, values, strict=True)))
    best = max(closeness, default=0.0)
    marked: list[int] = []
    if best > 0.0:
        ranked = sorted(range(len(closeness)), key=lambda i: (-closeness[i], i))
        marked = sorted(i for i in ranked[:MAX_MARKED] if closeness[i] >= MARK_SHARE * best)
    if len(section.text) <= WHOLE_SECTION_CHARS:
        return list(range(len(spans))), marked
    # The first paragraph states what the section is about ("It may include: ..."): always kept.
    paragraphs = {spans[i][0] for i in marked} | {0}
    return [i for i, (paragraph, _) in enumerate(spans) if paragraph in paragraphs], marked


def render_answer(translator: Translator, section: Section, chosen: Sequence[int], marked: Sequence[int], url: str,
                  children: Sequence[Section] = (), version: str = "", effective_date: str = "") -> Answer:
    """``children``: sub-sections of ``section``; a parent that says "except in the cases listed below"
    is useless without the list, so their titles follow the quote."""
    spans = section_sentences(section)
    chosen_set, marked_set = set(chosen), set(marked)
    lines: list[str] = []
    current: list[str] = []
    previous_paragraph = -1
    skipped = False
    for number, (paragraph, sentence) in enumerate(spans):
        if number not in chosen_set:
            skipped = True
            continue
        if paragraph != previous_paragraph:
            if current:
                lines.append(" ".join(current))
                current = []
            if skipped or (previous_paragraph == -1 and number > 0):
                lines.append(ELLIPSIS)
            previous_paragraph = paragraph
        skipped = False
        current.append(MARK + sentence if number in marked_set and len(spans) > 1 else sentence)
    if current:
        lines.append(" ".join(current))
    if skipped:
        lines.append(ELLIPSIS)
    quote = "\n".join(lines)
    lang = section.lang
    blocks = [translator.get(lang, "policy-answer-heading", title=section.title), quote]
    if children:
        blocks.append("\n".join([translator.get(lang, "policy-answer-subsections"),
                                  *(f"• {child.title}" for child in children)]))
    footer = [translator.get(lang, "policy-answer-link", url=url)]
    if version:
        footer.append(translator.get(lang, "policy-version-label", version=version,
                                     date=format_date(lang, effective_date)))
    blocks.append("\n".join(footer))
    text = "\n\n".join(blocks)
    return Answer(section_id=section.id, title=section.title, quote=quote, url=url, text=text)
