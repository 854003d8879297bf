"""Masking personal data in text: the one place its patterns live.

- ``mask_personal_data``: for log lines. Keeps enough to tell records apart (``i***@example.ru``, ``***67``).
- ``mask_question``: for texts the bot keeps to learn from (a question staff teach the engine with). Emails,
  phone numbers, links and names become placeholders (``[email]``, ``[phone]``, ``[link]``, ``[name]``), so
  the text says what was asked and nothing about who asked.

Names are found by what the channel knows of the writer (their Telegram name, the display name and address
of their mail), by the phrases that introduce one ("my name is", "меня зовут", a sign-off), by the Russian
dictionary (first names and patronymics), and a capitalised word next to a name found so is taken as part of
it (a surname). A name written in none of these ways is not found: the placeholders are a best effort, and
the texts they produce are kept only for ``[retention] learning_days``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

# -- log lines -------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w-])(\+?\d[\d\s\-()]{8,}\d)(?![\w-])")


def mask_personal_data(text: str) -> str:
    """Mask email local parts and phone numbers; keep enough to tell records apart in a log."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(_mask_phone, text)


def _phone_digits(match: re.Match[str]) -> str:
    return re.sub(r"\D", "", match.group(1))


def _mask_phone(match: re.Match[str]) -> str:
    digits = _phone_digits(match)
    if not 10 <= len(digits) <= 15:  # dates, ids and amounts are not phone numbers
        return match.group(0)
    return "***" + digits[-2:]


# -- texts kept to learn from ----------------------------------------------------------------------------

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
LINK_MASK = "[link]"
NAME_MASK = "[name]"
MASKS = (EMAIL_MASK, PHONE_MASK, LINK_MASK, NAME_MASK)

# Any address, Unicode included ("иван@пример.рф"), and the bare local part Telegram users write ("@ivan_p").
_ANY_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z][\w]{3,31}\b")
_LINK = re.compile(r"\b(?:https?://|www\.)\S+|\b(?:t\.me|vk\.com|wa\.me|instagram\.com|facebook\.com)/\S+",
                   re.IGNORECASE)
# A local Russian number written alone ("123-45-67") is a phone too; longer digit runs are by their length.
_LOCAL_PHONE = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{2}(?![\w-])")
# Phrases that introduce a name: after these the next word is a name however it is written ("меня зовут
# иван"); after the weaker ones (and sign-offs) only capitalised words are.
_STRONG_NAME_CUES = re.compile(
    r"\b(?:my name is|my name's|меня зовут|моё имя|мое имя|моя фамилия|фамилия)\s*[-—–:,]?\s*"
    r"([\w'’-]+(?:\s+[\w'’-]+){0,2})", re.IGNORECASE)
_WEAK_NAME_CUES = re.compile(
    r"(?:\b(?:i am|i'm|this is|call me)\s+|"
    r"^\s*(?:best regards|kind regards|regards|best wishes|cheers|thanks|thank you|sincerely|yours|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|спасибо|благодарю)\s*[,.!]?\s*)"
    r"([\w'’-]+(?:\s+[\w'’-]+){0,2})",
    re.IGNORECASE | re.MULTILINE,
)
# Words one of the strong cues has (a cheap check before the search).
_STRONG_CUE_WORDS = ("name", "зовут", "имя", "фамилия")
_DIGIT = re.compile(r"\d")
_TITLES = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Sir|Madam|г-н|г-жа|господин|госпожа)\.?\s+([A-ZА-ЯЁ][\w'’-]+)")
_WORD = re.compile(r"[A-Za-zА-Яа-яЁё][\w'’-]*")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
# Capitalised words the cues must never take for names ("I am Russian", "это Вы?").
_NOT_NAMES = frozenset({
    "i", "i'm", "i’m", "a", "an", "the", "not", "from", "in", "on", "at", "by", "to", "with", "and", "or", "but", "your", "you", "we",
    "am", "is", "are", "was", "have", "has", "want", "would", "please", "hi", "hello", "dear", "interested",
    "worried", "concerned", "russian", "english", "sure", "just", "also", "still", "happy", "glad", "sorry",
    "writing", "asking", "вы", "вас", "ваш", "ваша", "ваши", "вам", "я", "мы", "не", "и", "или", "но", "а",
    "из", "с", "хочу", "прошу", "пожалуйста", "здравствуйте", "привет", "добрый", "уважаемый", "уважаемая",
    "клиент", "клиентка", "пользователь", "пишу", "интересуюсь", "гражданин", "гражданка", "тоже", "уже",
    "ещё", "еще", "все",
})


def mask_question(text: str, known_names: Iterable[str] = ()) -> str:
    """``text`` with emails, phone numbers, links and names replaced by placeholders (see the module)."""
    # Most questions hold no address or number: the cheap checks spare the searches.
    if "@" in text:
        text = _ANY_EMAIL.sub(EMAIL_MASK, text)
        text = _HANDLE.sub(NAME_MASK, text)
    if "/" in text or "www." in text:
        text = _LINK.sub(LINK_MASK, text)
    if _DIGIT.search(text):
        text = _PHONE.sub(lambda m: PHONE_MASK if 10 <= len(_phone_digits(m)) <= 15 else m.group(0), text)
        text = _LOCAL_PHONE.sub(PHONE_MASK, text)
    return _mask_names(text, known_names)


def _mask_names(text: str, known_names: Iterable[str]) -> str:
    spans: list[tuple[int, int]] = []
    for name in {part for value in known_names for part in _WORD.findall(value or "") if len(part) >= 2}:
        spans += [m.span() for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)]
    lowered = text.lower()
    for strong, cues, needed in ((True, _STRONG_NAME_CUES, _STRONG_CUE_WORDS), (False, _WEAK_NAME_CUES, ())):
        if needed and not any(word in lowered for word in needed):
            continue
        for match in cues.finditer(text):
            start = match.start(1)
            for n, word in enumerate(_WORD.finditer(match.group(1))):
                value = word.group(0)
                if value.lower() in _NOT_NAMES or value.isupper() or not (value[0].isupper() or (strong and n < 2)):
                    break
                spans.append((start + word.start(), start + word.end()))
    spans += [m.span(1) for m in _TITLES.finditer(text)]
    words = list(_WORD.finditer(text))
    spans += [w.span() for w in words if _russian_given_name(w.group(0))]
    if not spans:
        return text
    named = {i for i, w in enumerate(words) if any(s <= w.start() < e for s, e in spans)}
    # A capitalised word beside a name is its other part ("Иван Петров", "Петрова Анна", "John Smith").
    for i in sorted(named):
        for step in (1, -1):
            j = i + step
            while 0 <= j < len(words) and j not in named and _beside(text, words, min(j, j - step), max(j, j - step)):
                beside = words[j].group(0)
                if not beside[0].isupper() or beside.lower() in _NOT_NAMES or beside.isupper():
                    break
                named.add(j)
                j += step
    out, last = [], 0
    for i in sorted(named):
        word = words[i]
        # Consecutive name words become one placeholder.
        if not (i - 1 in named and _beside(text, words, i - 1, i)):
            out += [text[last:word.start()], NAME_MASK]
        last = word.end()
    out.append(text[last:])
    return "".join(out)


def _beside(text: str, words: list[re.Match[str]], left: int, right: int) -> bool:
    """Whether only spaces (no punctuation, no line break) stand between two words."""
    between = text[words[left].end():words[right].start()]
    return bool(between) and between.strip(" \t") == ""


def _russian_given_name(word: str) -> bool:
    """A capitalised Russian first name or patronymic, as the dictionary knows them ("Иван", "Сергеевна")."""
    if not word[0].isupper() or word.isupper() or len(word) < 3 or not _CYRILLIC.search(word):
        return False
    return _morphology().lemma(word.lower().replace("ё", "е")) is None


@functools.cache
def _morphology() -> Any:
    from bot.policy.morphology import Morphology  # the dictionary is loaded once per process, by the engine

    return Morphology.shared()


def learning_key(text: str) -> str:
    """What makes two questions the same one: the masked question, without quoted history, salutation or
    signature, case and spacing ignored."""
    from bot.policy.text import request_text

    return " ".join(mask_question(request_text(text)).casefold().split())
