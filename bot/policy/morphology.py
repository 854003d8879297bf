"""Words to comparable tokens: tokenising, Russian lemmas (pymorphy3), English stems (Snowball),
synonym groups, and typo repair against the known vocabulary (character trigrams).

Every step is cached per word form, so a message costs a few dictionary look-ups once warm.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

import pymorphy3
import snowballstemmer

_TOKEN = re.compile(r"[a-zа-я0-9]+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s()\-]{7,}\d")
_CYRILLIC = re.compile(r"[а-я]")
_HAS_DIGITS = re.compile(r"\d")
# Person names in signatures ("С уважением, Иван") say nothing about the request.
_NAME_TAGS = ("Name", "Patr")
_CACHE_LIMIT = 200_000
# pymorphy3 announces every dictionary load at INFO; that is noise in the bot's log.
logging.getLogger("pymorphy3").setLevel(logging.WARNING)
# Placeholders for addresses, links and phone numbers found in the text.
EMAIL_TOKEN = "xemailx"
URL_TOKEN = "xurlx"
PHONE_TOKEN = "xphonex"
PLACEHOLDERS = frozenset({EMAIL_TOKEN, URL_TOKEN, PHONE_TOKEN})
LATIN_REPAIR_MIN_LENGTH = 7
# Marks a word the engine skipped as irrelevant; it matches nothing.
OUTSIDE_PREFIX = "~"
# Stems looked for in a sentence are found by their first letters before any stemming (it is slow).
STEM_PREFIX = 4
# Stems shorter than this are not compared by their core (too many unrelated words share 3 letters).
STEM_CORE_MIN = 5


def tokenize(text: str) -> list[str]:
    text = text.lower().replace("ё", "е").replace("e-mail", "email").replace("е-мейл", "емейл")
    # Most sentences hold no address, link or number: the cheap checks spare three searches each.
    if "@" in text:
        text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    if "http" in text or "www." in text:
        text = _URL.sub(f" {URL_TOKEN} ", text)
    if _HAS_DIGITS.search(text):
        text = _PHONE.sub(f" {PHONE_TOKEN} ", text)
        # Years, sums, order numbers and passwords ("4990", "2024", "12345") say nothing about the request;
        # short numbers do ("152-ФЗ", "статья 14", "error 404").
        return [token for token in _TOKEN.findall(text) if not (len(token) > 3 and token.isdigit())]
    return _TOKEN.findall(text)


def trigrams(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


class Morphology:
    """Shared word-level analysers (pymorphy3 is large: one per process)."""

    _instance: Morphology | None = None

    def __init__(self) -> None:
        self._morph = pymorphy3.MorphAnalyzer()
        self._stemmer = snowballstemmer.stemmer("english")
        self._russian_stemmer = snowballstemmer.stemmer("russian")
        self._stems: dict[str, str] = {}
        self._lemmas: dict[str, str | None] = {}
        self._known: dict[str, bool] = {}

    @classmethod
    def shared(cls) -> Morphology:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def is_known(self, word: str) -> bool:
        if not _CYRILLIC.search(word):
            return True
        known = self._known.get(word)
        if known is None:
            known = bool(self._morph.word_is_known(word))
            self._known[word] = known
        return known

    def russian_stem(self, word: str) -> str:
        """A cheap Snowball stem: enough to tell whether a word can matter before the costly analysis."""
        return self._cached_stem(word, self._russian_stemmer)

    def stem(self, word: str) -> str:
        return self._cached_stem(word, self._russian_stemmer if _CYRILLIC.search(word) else self._stemmer)

    def _cached_stem(self, word: str, stemmer: Any) -> str:
        # One cache for both languages: a word's letters tell which stemmer made its entry.
        stem = self._stems.get(word)
        if stem is None:
            stem = str(stemmer.stemWord(word))
            if len(self._stems) > _CACHE_LIMIT:
                self._stems.clear()
            self._stems[word] = stem
        return stem

    def lemma(self, word: str) -> str | None:
        """Dictionary form (ru) or stem (en); None for a person's first name or patronymic."""
        cached = self._lemmas.get(word, "")
        if cached != "":
            return cached
        result: str | None
        if _CYRILLIC.search(word):
            parse = self._morph.parse(word)[0]
            tag = str(parse.tag)
            known = bool(parse.is_known)
            self._known[word] = known
            if any(t in tag for t in _NAME_TAGS) and parse.score > 0.5 and known:
                result = None
            else:
                result = str(parse.normal_form).replace("ё", "е")
        else:
            result = str(self._stemmer.stemWord(word))
        if len(self._lemmas) > _CACHE_LIMIT:
            self._lemmas.clear()
            self._known.clear()
        self._lemmas[word] = result
        return result


class Normaliser:
    """Text -> canonical tokens for one language's vocabulary.

    ``overrides`` fix lemmas the analyser gets wrong for this domain (e.g. "данные" is not "дать");
    ``synonyms`` map every member of a group (words or short phrases) to one token;
    ``stopwords`` are dropped. Unknown words close to a vocabulary word (typos) are repaired.
    """

    def __init__(self, morphology: Morphology, overrides: dict[str, str], synonyms: Sequence[Sequence[str]],
                 stopwords: Iterable[str]) -> None:
        self._morph = morphology
        self._overrides = {k.lower().replace("ё", "е"): v.lower().replace("ё", "е") for k, v in overrides.items()}
        self._stop: set[str] = set()
        for word in stopwords:
            stop_lemmas = self._phrase_lemmas(word)
            # A phrase ("tell me") is the name of a synonym group; its words alone stay meaningful.
            self._stop.update(["_".join(stop_lemmas)] if len(stop_lemmas) > 1 else stop_lemmas)
        self._single: dict[str, str] = {}
        self._phrases: dict[tuple[str, ...], str] = {}
        # Longest phrase starting with each lemma: most words start none, and are not sliced at all.
        self._longest_phrase_from: dict[str, int] = {}
        for group in synonyms:
            head = self._phrase_lemmas(group[0])
            if not head:
                continue
            target = "_".join(head)
            for member in group:
                lemmas = tuple(self._phrase_lemmas(member))
                if len(lemmas) == 1:
                    self._single[lemmas[0]] = target
                elif lemmas:
                    self._phrases[lemmas] = target
                    self._longest_phrase_from[lemmas[0]] = max(self._longest_phrase_from.get(lemmas[0], 0),
                                                               len(lemmas))
        self._vocab: set[str] = set()
        # Snowball stems of every Russian word form the engine was taught (examples, synonyms,
        # stopwords, overrides): a message word whose stem is not among them cannot match anything.
        self._known_stems: set[str] = set()
        # The same stems less their last letter: Snowball cuts "устареть" to "устарет" but "устарел" to
        # "устарел", so a past form of a taught verb would otherwise never be analysed.
        self._known_stem_cores: set[str] = set()
        for text in [*self._overrides, *stopwords, *(member for group in synonyms for member in group)]:
            self._remember_stems(tokenize(text))
        self._surface: dict[str, str] = {}
        self._grams: dict[str, set[str]] = defaultdict(set)
        self._repairs: dict[str, str | None] = {}
        self._learning_repairs: dict[str, str | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The analysers are per process (and cannot be pickled): a cached engine model uses this one's.
        state = self.__dict__.copy()
        del state["_morph"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._morph = Morphology.shared()

    def _raw_lemma(self, word: str) -> str | None:
        if word in self._overrides:
            return self._overrides[word]
        return self._morph.lemma(word)

    def _phrase_lemmas(self, phrase: str) -> list[str]:
        return [lemma for lemma in (self._raw_lemma(t) for t in tokenize(phrase)) if lemma]

    def _canonical_sequence(self, words: list[str], repair: bool) -> list[str]:
        if not repair:
            return self._merge_groups([lemma for lemma in map(self._raw_lemma, words) if lemma is not None])
        lemmas: list[str] = []
        for word in words:
            if self._is_foreign_russian(word):
                # Nothing the engine knows shares this word's stem: a typo of a known word, or a word
                # that cannot matter (skipping the full analysis keeps long letters fast).
                fixed = None if self._morph.is_known(word) else self._repair(word)
                lemmas.append(fixed if fixed is not None else OUTSIDE_PREFIX + word)
                continue
            lemma = self._raw_lemma(word)
            if lemma is None:
                continue
            # Only words the dictionary does not know are typo candidates (any English word may be).
            if self._vocab and lemma not in self._vocab and lemma not in self._single \
                    and lemma not in self._stop and not (_CYRILLIC.search(word) and self._morph.is_known(word)):
                fixed = self._repair(word)
                if fixed is not None:
                    lemma = fixed
            lemmas.append(lemma)
        return self._merge_groups(lemmas)

    def _merge_groups(self, lemmas: list[str]) -> list[str]:
        """Synonym groups and phrases to their group token; stopwords dropped."""
        out: list[str] = []
        i = 0
        while i < len(lemmas):
            for size in range(min(self._longest_phrase_from.get(lemmas[i], 1), len(lemmas) - i), 1, -1):
                target = self._phrases.get(tuple(lemmas[i:i + size]))
                if target is not None:
                    if target not in self._stop:  # a phrase group may be a stopword ("could you tell me")
                        out.append(target)
                    i += size
                    break
            else:
                lemma = lemmas[i]
                lemma = self._single.get(lemma, lemma)
                if lemma not in self._stop:
                    out.append(lemma)
                i += 1
        return out

    def _remember_stems(self, words: Iterable[str]) -> None:
        stems = {self._morph.russian_stem(w) for w in words if _CYRILLIC.search(w)}
        self._known_stems.update(stems)
        self._known_stem_cores.update(stem[:-1] for stem in stems if len(stem) >= STEM_CORE_MIN)

    def learn(self, text: str, written_by_users: bool = False) -> list[str]:
        """Canonical tokens of a curated text; its words join the vocabulary typos are repaired to.

        ``written_by_users``: a message people sent (the asked examples) has typos of its own; a Russian
        word the dictionary does not know is repaired as in a query and never joins the vocabulary, or
        "исправте" would become a word of its own and stop being read as "исправьте"."""
        words = tokenize(text)
        typos = {word for word in words if written_by_users and self._is_typo(word)}
        self._remember_stems(word for word in words if word not in typos)
        lemmas: list[tuple[str, str]] = []
        for word in words:
            lemma = self._raw_lemma(word)
            if word in typos:
                # Kept apart from the query cache: the vocabulary is still growing, and a query must be
                # repaired against the finished one.
                if word not in self._learning_repairs:
                    self._learning_repairs[word] = self._closest_known(word)
                lemma = self._learning_repairs[word] or lemma
            if lemma is not None:
                lemmas.append((word, lemma))
        tokens = self._merge_groups([lemma for _, lemma in lemmas])
        typo_lemmas = {lemma for word, lemma in lemmas if word in typos}
        self._vocab.update(token for token in tokens if token not in typo_lemmas)
        for word, lemma in lemmas:
            if word in typos:
                continue
            self._vocab.add(lemma)
            if len(word) < 4 or word in self._surface or not self._morph.is_known(word):
                continue
            self._surface[word] = lemma
            for gram in trigrams(word):
                self._grams[gram].add(word)
        return tokens

    def _is_typo(self, word: str) -> bool:
        return bool(_CYRILLIC.search(word)) and word not in self._overrides and not self._morph.is_known(word)

    def _is_foreign_russian(self, word: str) -> bool:
        # Depends only on what the engine was taught, never on the caches: an answer must not change
        # with the messages processed before it.
        return (bool(_CYRILLIC.search(word)) and word not in self._overrides
                and not self._is_known_stem(self._morph.russian_stem(word)))

    def _is_known_stem(self, stem: str) -> bool:
        return stem in self._known_stems or (len(stem) >= STEM_CORE_MIN and stem[:-1] in self._known_stem_cores)

    def tokens(self, text: str) -> list[str]:
        return self._canonical_sequence(tokenize(text), repair=True)



    def stems(self, text: str, prefixes: frozenset[str] | None = None) -> set[str]:
        """Snowball stems of the words as written, before synonym groups merge them (no dictionary
        look-up, so asking leaves the analyser's caches, and so later messages' tokens, unchanged).
        With ``prefixes``, only words starting with one of them (STEM_PREFIX letters) are stemmed."""
        return {self._morph.stem(word) for word in tokenize(text)
                if prefixes is None or word[:STEM_PREFIX] in prefixes}

    def in_vocabulary(self, token: str) -> bool:
        return token in self._vocab

    def is_stopword(self, token: str) -> bool:
        return token in self._stop

    def _repair(self, word: str) -> str | None:
        """The lemma of the closest known word form, when the word looks like a typo of it (cached)."""
        if word in self._repairs:
            return self._repairs[word]
        result = self._closest_known(word)
        if len(self._repairs) > _CACHE_LIMIT:
            self._repairs.clear()
        self._repairs[word] = result
        return result

    def _closest_known(self, word: str) -> str | None:
        """One edit for short words, two for long ones; candidates found through shared trigrams."""
        result: str | None = None
        # Latin words have no dictionary to tell a typo from a real word, and short real words sit one
        # edit from a vocabulary word ("than"/"thank", "chance"/"change"): only long ones are repaired.
        shortest = 4 if _CYRILLIC.search(word) else LATIN_REPAIR_MIN_LENGTH
        if len(word) >= shortest and not word.isdigit():
            grams = trigrams(word)
            counts = Counter(chain.from_iterable(self._grams.get(gram, ()) for gram in grams))
            allowed = 1 if len(word) <= 6 else 2
            best: tuple[int, int, str] | None = None
            for candidate, shared in counts.items():
                if abs(len(candidate) - len(word)) > allowed or shared * 3 < len(grams):
                    continue
                distance = edit_distance(word, candidate, allowed)
                if distance <= allowed:
                    key = (distance, -shared, candidate)
                    if best is None or key < best:
                        best = key
            if best is not None:
                result = self._surface[best[2]]
        return result


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit); limit + 1 when above limit.

    Only cells within ``limit`` of the diagonal can stay within the limit, so only they are computed
    (a long typo is compared with a dozen candidates; the full table made that cost milliseconds)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    above = limit + 1
    previous2: list[int] = []
    previous = [j if j <= limit else above for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        current = [above] * (len(b) + 1)
        if i <= limit:
            current[0] = i
        row_best = current[0]
        letter = a[i - 1]
        for j in range(max(1, i - limit), min(len(b), i + limit) + 1):
            # Plain comparisons, not min(): this loop is the hot part of repairing a typo.
            value = previous[j - 1] + (letter != b[j - 1])
            if previous[j] + 1 < value:
                value = previous[j] + 1
            if current[j - 1] + 1 < value:
                value = current[j - 1] + 1
            if i > 1 and j > 1 and letter == b[j - 2] and a[i - 2] == b[j - 1] and previous2[j - 2] + 1 < value:
                value = previous2[j - 2] + 1
            if value > above:
                value = above
            current[j] = value
            if value < row_best:
                row_best = value
        if row_best > limit:
            return above
        previous2, previous = previous, current
    return previous[len(b)]
