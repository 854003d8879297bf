"""Russian written without Cyrillic: in Latin letters ("udalite moi dannye") or on the wrong keyboard
layout ("ghbdtn" is "привет" typed with the English layout on). Both are common in chat; the engine reads
them as Russian once they are spelled back in Cyrillic.

Only the spelling is done here; whether a Latin text is such Russian at all is decided by the caller,
which knows the vocabularies (see ``PolicyEngine``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# The standard Russian layout over the US one: the key a letter sits on.
_LAYOUT = str.maketrans(
    "qwertyuiop[]asdfghjkl;'zxcvbnm,.`",
    "йцукенгшщзхъфывапролджэячсмитьбюё",
)
# Inside a word these keys are letters on the Russian layout (б, ю, ж, э, х, ъ), not punctuation.
_LAYOUT_WORD = re.compile(r"[a-z\[\];',.`]*[a-z][a-z\[\];',.`]*")
# Longest first: "shch" before "sh", "ya" before "y".
_TRANSLIT_RULES = (
    ("shch", "щ"), ("tsya", "тся"), ("tsja", "тся"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"),
    ("sh", "ш"), ("ts", "ц"), ("tz", "ц"),
    ("yo", "ё"), ("jo", "ё"), ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("'", "ь"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"),
    ("j", "й"), ("k", "к"), ("q", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"),
    ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("h", "х"), ("c", "ц"), ("x", "кс"),
)
_VOWELS = "аеёиоуыэюя"
_LATIN_WORD = re.compile(r"[a-z']+")
# Addresses and links are kept as written.
_ADDRESS = re.compile(r"\S*(?:@|://|www\.)\S*")


def from_wrong_layout(text: str) -> str:
    """Text typed with the English layout on, as the Russian keys would have written it."""
    return _respell(text, lambda chunk: _LAYOUT_WORD.sub(lambda match: match.group(0).translate(_LAYOUT), chunk))


def from_translit(text: str) -> str:
    """Russian written in Latin letters, spelled in Cyrillic ("dannye" -> "данные", "moy" -> "мой")."""
    return _respell(text, lambda chunk: _LATIN_WORD.sub(lambda match: _word_from_translit(match.group(0)), chunk))


def _respell(text: str, convert: Callable[[str], str]) -> str:
    """Converts the text between addresses and links."""
    out: list[str] = []
    position = 0
    lowered = text.lower()
    for match in _ADDRESS.finditer(text):
        out.append(convert(lowered[position:match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(convert(lowered[position:]))
    return "".join(out)


def _word_from_translit(word: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(word):
        if word[i] in "ij" and i == len(word) - 1 and out and out[-1] in _VOWELS:
            # A final "i" after a vowel is "й": "odnoi", "kakoi" ("moi" is "мои" or "мой", one lemma).
            out.append("й")
            i += 1
            continue
        if word[i] == "y" and not word.startswith(("yo", "yu", "ya"), i):
            # "y" is "й" after a vowel ("moy", "kakoy") and "ы" after a consonant ("dannye", "vy").
            out.append("й" if out and out[-1] in _VOWELS else "ы")
            i += 1
            continue
        for latin, cyrillic in _TRANSLIT_RULES:
            if word.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)
