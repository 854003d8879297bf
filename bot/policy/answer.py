"""The answer a person sees: the policy's own words (never generated), the section title and the link."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import Translator
from bot.policy.models import Answer, Section

# Sections longer than this are quoted by their most relevant paragraphs only.
MAX_QUOTE_CHARS = 700
ELLIPSIS = "[…]"


def choose_paragraphs(section: Section, paragraph_tokens: Sequence[set[str]], query: set[str]) -> list[int]:
    """Indexes (in document order) of the paragraphs to quote: all when short, else the best two."""
    paragraphs = section.paragraphs
    if len(section.text) <= MAX_QUOTE_CHARS or len(paragraphs) <= 1:
        return list(range(len(paragraphs)))
    overlap = [len(tokens & query) for tokens in paragraph_tokens]
    # Ties keep the earlier paragraph: it usually states the general rule.
    ranked = sorted(range(len(paragraphs)), key=lambda i: (-overlap[i], i))
    chosen = [ranked[0]]
    if len(ranked) > 1 and overlap[ranked[1]] > 0:
        chosen.append(ranked[1])
    if 0 not in chosen and overlap[ranked[0]] == 0:
        chosen = [0]
    return sorted(chosen)


def render_answer(translator: Translator, section: Section, paragraph_indexes: Sequence[int], url: str,
                  children: Sequence[Section] = ()) -> Answer:
    """``children``: sub-sections of ``section``; a parent that says "except in the cases listed below"
    is useless without the list, so their titles follow the quote."""
    paragraphs = section.paragraphs
    parts: list[str] = []
    previous = -1
    for index in paragraph_indexes:
        if index != previous + 1:
            parts.append(ELLIPSIS)
        parts.append(paragraphs[index])
        previous = index
    if previous != len(paragraphs) - 1:
        parts.append(ELLIPSIS)
    quote = "\n".join(parts)
    lang = section.lang
    blocks = [translator.get(lang, "policy-answer-heading", title=section.title), quote]
    if children:
        blocks.append("\n".join([translator.get(lang, "policy-answer-subsections"),
                                  *(f"• {child.title}" for child in children)]))
    blocks.append(translator.get(lang, "policy-answer-link", url=url))
    text = "\n\n".join(blocks)
    return Answer(section_id=section.id, title=section.title, quote=quote, url=url, text=text)
