"""The engine facade: load the policy and what people asked, fit the models, then understand messages.

Understanding a message, in order:
1. language: the hint, else the letters; Russian typed in Latin letters or on the wrong layout is respelt;
2. quoted history, signatures and salutations are cut (``text.request_text``); the rest becomes canonical
   tokens (lemmas, synonym groups: ``morphology.Normaliser``);
3. a classifier fitted to every labelled message gives each label a probability: each section, "not in the
   policy", and each request and other intent (``learnt.SoftmaxClassifier``); the intent is the likeliest
   of "question" (all sections and "not in the policy" together) and the others;
4. for a question, each section's score adds how close the message is to the section's own words and
   examples (``learnt.PolicyReader``), and the classifier counts less for a section few texts taught
   (``SUPPORT_HALF``), so a new or rewritten section is found from its text and a few examples; "not in the
   policy" competes as a section the reader is always ``UNANSWERED_SIMILARITY`` close
   to; below ``min_confidence`` the engine abstains.

Every constant below is chosen by ``bench/engine_cv.py`` (cross-validation over the labelled tuning sets
and leave-one-section-out runs); rerun it after changing the data or the models.

The fitted models are cached on disk (``cache_dir``) under a hash of everything they are fitted from, so a
restart with the same policy folder loads in well under a second; an edit refits them.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import logging
import os
import pickle
import stat
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.i18n import Translator, get_translator
from bot.policy.answer import (
    SentenceVector,
    choose_sentences,
    render_answer,
    section_sentences,
    sentence_vectors,
)
from bot.policy.curated import Curated, load_curated
from bot.policy.language import CYRILLIC, detect_language
from bot.policy.learnt import PolicyReader, SoftmaxClassifier, Vectoriser
from bot.policy.loader import LANGUAGES, load_policy
from bot.policy.models import Answer, Intent, LearntExample, Policy, RankedSection, Section, Understanding
from bot.policy.morphology import PLACEHOLDERS, Morphology, Normaliser, tokenize
from bot.policy.text import request_text
from bot.policy.transliteration import from_translit, from_wrong_layout

log = logging.getLogger(__name__)

# ---- constants chosen by bench/engine_cv.py ------------------------------------------------------------
# `.venv/bin/python bench/engine_cv.py --fit 10,0.5,1.0 30,0.5,1.0` (session 6, with unanswered2-dev):
# C=10, text 0.5, balance 1.0 with the weights below scored, over the tuning sets in 5 folds grouped by
# author: top-1 ru 0.959 / en 0.954, intent 0.976 / 0.983, abstention 0.973 / 0.988, "not in the policy"
# 0.861 / 0.850; left-one-section-out top-1 0.812 / 0.816, the other sections' unseen questions 0.865 / 0.893.
# C=30 came second; balance 0.5 (an earlier run) third. The earlier constants scored "not in the policy"
# 0.650 / 0.628 on the same folds.
# C of the classifier: the weight of fitting the data against keeping the weights small.
REGULARISATION = 10.0
# A sentence of a section's own text (and its title) teaches the classifier this much of a labelled message.
SECTION_TEXT_WEIGHT = 0.5
# Labels with few examples count more: each example's weight is multiplied by (mean count / label count)
# to this power (0: no balancing, 1: every label weighs the same in all).
CLASS_BALANCE = 1.0
# A section's score: CLASSIFIER_WEIGHT * log P(section) + READER_WEIGHT * closeness to its own words.
CLASSIFIER_WEIGHT = 10.0
READER_WEIGHT = 1.0
# The classifier counts half for a section taught by this many texts, fully for one taught by many (0: always).
SUPPORT_HALF = 3000.0
# The reader's closeness of "not in the policy" (a section with no words of its own).
UNANSWERED_SIMILARITY = 1.0
# A word or pair seen in fewer training texts than this is not a feature (it cannot generalise).
MIN_DOCUMENTS = 2
# The reader blends a section's closest and second-closest item.
READER_BEST_WEIGHT = 0.7
# A question taught by staff is answered their way when a message is at least this close to it.
LEARNT_SIMILARITY = 0.85
# --------------------------------------------------------------------------------------------------------

# Long emails: the request is near the top; the rest only costs time.
MAX_TOKENS = 400
UNANSWERED = "unanswered"
INTENT_LABELS = tuple(i.value for i in Intent if i is not Intent.QUESTION)
# Bump when the models' code changes, so cached models fitted by older code are not used.
MODEL_FORMAT = "learnt-3"
CACHE_KEEP = 8
# Where fitted models are kept when the caller names no folder (the bot names its data folder).
CACHE_ENVIRONMENT = "PRIVACY_ENGINE_CACHE"
# One-off costs (first use of each code path and of common words) are paid at load, not by a person.
WARM_UP = {
    "en": ["Hello! Do you share my data? Thanks, John",
           "Dear Data Protection Officer,\n\nLast week I filled in your form and a courier called me. Could you "
           "tell me who else gets my phone number and whether you keep it?\n\nBest regards,\nJohn Smith\n"
           "+1 555 0100\n\nOn Mon, 2 Nov 2026 at 10:00, Support <support@example.com> wrote:\n> Hello"],
    "ru": ["Здравствуйте! Вы передаёте мои данные? Спасибо",
           "Уважаемые коллеги!\n\nНа прошлой неделе я заполнила форму на сайте, и мне позвонил курьер. "
           "Подскажите, кому ещё передаётся мой номер телефона и храните ли вы его?\n\nС уважением,\n"
           "Анна Иванова\n+7 900 000-00-00\n\nпн, 2 нояб. 2026 г. в 10:00, Поддержка <support@example.com>:\n> Здравствуйте"],
}
# A Latin-letter message is Russian typed in Latin letters or on the wrong layout when at most this share
# of its words are English words the engine knows, and at least the second share of its respelt words are
# Russian dictionary words ("udalite moi dannye", "ghbdtn").
ENGLISH_SHARE_OF_LATIN = 0.34
RUSSIAN_SHARE_OF_RESPELLED = 0.6
LATIN_CHECK_CHARS = 400
# Emoji are "other symbols"; skin tones are modifiers; variation selectors and joiners glue them.
EMOJI_CATEGORIES = ("So", "Sk")
EMOJI_JOINERS = ("\u200d", "\ufe0f", "\ufe0e")


@dataclass(frozen=True)
class Settings:
    """The fitted constants; ``bench/engine_cv.py`` varies them."""

    regularisation: float = REGULARISATION
    section_text_weight: float = SECTION_TEXT_WEIGHT
    class_balance: float = CLASS_BALANCE
    classifier_weight: float = CLASSIFIER_WEIGHT
    reader_weight: float = READER_WEIGHT
    unanswered_similarity: float = UNANSWERED_SIMILARITY
    reader_best_weight: float = READER_BEST_WEIGHT
    min_documents: int = MIN_DOCUMENTS
    support_half: float = SUPPORT_HALF


@dataclass
class TrainingData:
    """Everything one language's models are fitted from (also what the cross-validation varies)."""

    curated: Curated
    sections: list[Section]
    learnt: list[LearntExample] = field(default_factory=list)


@dataclass
class _LanguageModel:
    normaliser: Normaliser
    vectoriser: Vectoriser
    classifier: SoftmaxClassifier
    reader: PolicyReader
    section_ids: list[str]
    # classifier label -> column of its log probability
    columns: dict[str, int]
    # label -> how many texts taught it (a label with few is trusted less from the classifier)
    support: dict[str, int]
    # per section, the tokens of each of its sentences (to choose what to quote)
    sentence_tokens: dict[str, list[list[str]]]
    # questions taught by staff: (columns, values, section id or UNANSWERED)
    learnt: list[tuple[np.ndarray, np.ndarray, str]] = field(default_factory=list)


def build_model(data: TrainingData, settings: Settings) -> _LanguageModel:
    """Fit one language's models."""
    curated = data.curated
    normaliser = Normaliser(Morphology.shared(), curated.overrides, curated.synonyms, curated.stopwords)
    documents: list[list[str]] = []
    labels: list[str] = []
    weights: list[float] = []
    reader_items: list[tuple[str, list[str]]] = []

    def teach(tokens: list[str], label: str, weight: float = 1.0) -> None:
        if tokens:
            documents.append(tokens)
            labels.append(label)
            weights.append(weight)

    for name, intent_data in curated.intents.items():
        for example in intent_data.examples:
            teach(normaliser.learn(example), name)
    sentence_tokens: dict[str, list[list[str]]] = {}
    for section in data.sections:
        own = [normaliser.learn(section.title)] + [normaliser.learn(s) for _, s in section_sentences(section)]
        sentence_tokens[section.id] = own[1:]
        for tokens in own:
            teach(tokens, section.id, settings.section_text_weight)
            if tokens:
                reader_items.append((section.id, tokens))
        label_data = curated.sections.get(section.id)
        for example in label_data.examples if label_data else []:
            tokens = normaliser.learn(example)
            teach(tokens, section.id)
            if tokens:
                reader_items.append((section.id, tokens))
    # Messages people sent come last, so their typos are repaired against everything curated.
    asked = [(normaliser.learn(request_text(text), written_by_users=True), section_id or UNANSWERED)
             for text, section_id in curated.asked]
    new_sections = ({s.id for s in data.sections} - curated.labelled_against
                    if curated.labelled_against is not None else set())
    for tokens, label in set_aside_stale(asked, new_sections, reader_items, settings) if new_sections else asked:
        teach(tokens, label)
    for text, intent in curated.asked_intents:
        teach(normaliser.learn(request_text(text), written_by_users=True), intent)
    for taught in data.learnt:
        teach(normaliser.learn(request_text(taught.text), written_by_users=True), taught.section_id or UNANSWERED)
    if settings.class_balance:
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        mean = len(labels) / len(counts)
        weights = [w * (mean / counts[label]) ** settings.class_balance for w, label in zip(weights, labels, strict=True)]
    vectoriser = Vectoriser(documents, settings.min_documents)
    classifier = SoftmaxClassifier.fit(vectoriser, documents, labels, weights, settings.regularisation)
    section_ids = [s.id for s in data.sections]
    reader = PolicyReader(vectoriser, reader_items, section_ids, settings.reader_best_weight)
    support: dict[str, int] = {}
    for label in labels:
        support[label] = support.get(label, 0) + 1
    model = _LanguageModel(normaliser, vectoriser, classifier, reader, section_ids,
                           {label: number for number, label in enumerate(classifier.labels)}, support, sentence_tokens)
    return model


def set_aside_stale(asked: list[tuple[list[str], str]], new_sections: set[str],
                    reader_items: list[tuple[str, list[str]]], settings: Settings) -> list[tuple[list[str], str]]:
    """The labelled messages still to learn from after sections were added: one labelled "not in the
    policy" (or another section) before a section existed, that now reads as that new section's, may be
    answered by it; its old label would teach the engine to turn the new section's questions away, so it
    is set aside until someone labels it again. Which section a message reads as is decided by a classifier
    fitted to the sections' own words and examples only (what the old labels cannot have seen)."""
    documents = [tokens for _, tokens in reader_items]
    labels = [label for label, _ in reader_items]
    counts = {label: labels.count(label) for label in set(labels)}
    # Each section counts alike, however many examples it has (a new one has few).
    weights = [len(labels) / len(counts) / counts[label] for label in labels]
    vectoriser = Vectoriser(documents, settings.min_documents)
    by_text = SoftmaxClassifier.fit(vectoriser, documents, labels, weights, settings.regularisation)
    kept = []
    for tokens, label in asked:
        columns, values = vectoriser.vector(tokens)
        if len(columns) and label not in new_sections:
            reads_as = by_text.labels[int(np.argmax(by_text.log_probabilities(columns, values)))]
            if reads_as in new_sections:
                continue
        kept.append((tokens, label))
    return kept


@dataclass(frozen=True)
class Evidence:
    """What the models say about one message."""

    lang: str
    labels: list[str]  # the classifier's labels
    log_p: np.ndarray  # their log probabilities
    section_ids: list[str]
    reader: np.ndarray  # each section's closeness to the message
    support: np.ndarray  # how many texts taught each section and "not in the policy" (in that order)
    taught: str | None  # the label staff gave a question very close to this one

    def explanation(self) -> dict[str, float]:
        top = sorted(range(len(self.labels)), key=lambda i: -self.log_p[i])[:5]
        return {self.labels[i]: round(float(np.exp(self.log_p[i])), 4) for i in top}


@dataclass(frozen=True)
class Decision:
    intent: Intent
    confidence: float
    # sections, best first, with their share of the question's score
    ranked: list[tuple[str, float]]
    abstained: bool = False
    unanswered: bool = False


def trust(support: np.ndarray, settings: Settings) -> np.ndarray:
    """How far the classifier's (log) probability of each section counts: a section taught by few texts (a
    new one, with its text and a few examples) is judged more by its own words than by a classifier that
    has hardly seen it."""
    if not settings.support_half:
        return np.ones_like(support)
    return support / (support + settings.support_half)


def decide(evidence: Evidence, settings: Settings, min_confidence: float) -> Decision:
    """The intent, and for a question the section or abstention: written once, used by the engine and by
    the cross-validation that chooses the settings."""
    probabilities = np.exp(evidence.log_p)
    position = {label: number for number, label in enumerate(evidence.labels)}
    by_intent = {label: float(probabilities[position[label]]) for label in INTENT_LABELS if label in position}
    by_intent[Intent.QUESTION.value] = float(sum(probabilities[i] for label, i in position.items()
                                                 if label not in INTENT_LABELS))
    if evidence.taught is not None:
        by_intent[Intent.QUESTION.value] = 1.0
    intent = Intent(max(by_intent, key=lambda label: (by_intent[label], label)))
    labels = [*evidence.section_ids, UNANSWERED]
    floor = float(evidence.log_p.min())
    classifier = np.array([evidence.log_p[position[label]] if label in position else floor for label in labels])
    reader = np.append(evidence.reader, settings.unanswered_similarity)
    scores = settings.classifier_weight * classifier * trust(evidence.support, settings) + settings.reader_weight * reader
    if evidence.taught is not None:
        scores[labels.index(evidence.taught)] = scores.max() + 10.0
    shares = np.exp(scores - scores.max())
    shares /= shares.sum()
    order = sorted(range(len(labels)), key=lambda i: (-shares[i], labels[i]))
    ranked = [(labels[i], float(shares[i])) for i in order if labels[i] != UNANSWERED]
    if intent is not Intent.QUESTION:
        return Decision(intent, by_intent[intent.value], [])
    best = order[0]
    if labels[best] == UNANSWERED:
        return Decision(intent, float(shares[best]), ranked, abstained=True, unanswered=True)
    confidence = float(shares[best])
    return Decision(intent, confidence, ranked, abstained=confidence < min_confidence)


def _tokens_for(model: _LanguageModel, text: str) -> list[str]:
    return model.normaliser.tokens(request_text(text))[:MAX_TOKENS]


class PolicyEngine:
    def __init__(self, policy: Policy, models: dict[str, _LanguageModel], url: str, min_confidence: float,
                 default_language: str, translator: Translator, settings: Settings | None = None) -> None:
        self._policy = policy
        self._models = models
        self.url = url
        self.min_confidence = min_confidence
        self.default_language = default_language
        self._translator = translator
        self._settings = settings or Settings()
        # (language, section id) -> its sentences' vectors (answer.sentence_vectors), made on first use
        self._sentence_vectors: dict[tuple[str, str], list[SentenceVector]] = {}

    # ----- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path | str, url: str = "https://jetbit.ru/policy/", min_confidence: float = 0.15,
             default_language: str = "ru", translator: Translator | None = None,
             learnt: Sequence[LearntExample] = (), cache_dir: Path | str | None = None,
             settings: Settings | None = None) -> PolicyEngine:
        """Read sections and examples and fit the models (or load them from ``cache_dir``); raises
        PolicyLoadError naming a malformed file."""
        directory = Path(directory)
        settings = settings or Settings()
        if cache_dir is None:
            cache_dir = os.environ.get(CACHE_ENVIRONMENT) or None
        policy = load_policy(directory)
        models: dict[str, _LanguageModel] = {}
        for lang in LANGUAGES:
            data = TrainingData(load_curated(directory, lang, [s.id for s in policy.sections[lang]]),
                                policy.sections[lang], [e for e in learnt if e.lang == lang])
            models[lang] = _cached_model(data, settings, cache_dir)
        engine = cls(policy, models, url, min_confidence, default_language, translator or get_translator(), settings)
        for lang, texts in WARM_UP.items():
            for text in texts:
                engine.understand(text, lang=lang)  # the first calls pay one-off costs; not a user's message
        # The models live as long as the process: keep the garbage collector from rescanning them.
        gc.collect()
        gc.freeze()
        return engine

    # ----- what channels need --------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def policy_version(self) -> str:
        return self._policy.version

    @property
    def effective_date(self) -> str:
        return self._policy.effective_date.isoformat()

    def sections(self, lang: str) -> list[Section]:
        return list(self._policy.sections[lang if lang in LANGUAGES else self.default_language])

    def section(self, lang: str, section_id: str) -> Section | None:
        return self._policy.section(lang, section_id)

    def children(self, lang: str, section_id: str) -> list[Section]:
        return [section for section in self.sections(lang) if section.parent == section_id]

    def answer_for_section(self, lang: str, section_id: str) -> Answer | None:
        """The whole section as an answer (for a "browse the policy" menu)."""
        section = self.section(lang, section_id)
        if section is None:
            return None
        return self._render(section, [], list(range(len(section_sentences(section)))))

    # ----- learning from staff -------------------------------------------------------------------

    def support(self, lang: str) -> dict[str, int]:
        """How many texts taught each label of a language's models (sections, "unanswered", intents)."""
        return dict(self._models[lang].support)

    def learn(self, lang: str, text: str, section_id: str | None) -> None:
        """Staff say what a question means: a section, or (None) that the policy does not answer it. The
        same question, and ones very close to it, are answered that way at once; the classifier learns it
        when the models are next fitted (``load(learnt=...)``)."""
        if lang not in self._models or (section_id is not None and self.section(lang, section_id) is None):
            raise ValueError(f"unknown language or section: {lang}/{section_id}")
        model = self._models[lang]
        columns, values = model.vectoriser.vector(_tokens_for(model, text))
        if len(columns):
            model.learnt.append((columns, values, section_id or UNANSWERED))

    # ----- understanding -------------------------------------------------------------------------

    def understand(self, text: str, lang: str | None = None) -> Understanding:
        found = self.evidence(text, lang)
        if isinstance(found, Understanding):
            return found
        evidence, tokens = found
        decision = decide(evidence, self._settings, self.min_confidence)
        lang = evidence.lang
        offered = []
        for section_id, share in decision.ranked[:3]:
            section = self._policy.section(lang, section_id)
            if section is not None:
                offered.append(RankedSection(section.id, section.title, share))
        if decision.intent is not Intent.QUESTION or decision.abstained:
            return self._result(lang, decision.intent, decision.confidence, offered, None, evidence.explanation(),
                                abstained=decision.abstained, unanswered=decision.unanswered)
        section = self._policy.section(lang, decision.ranked[0][0])
        assert section is not None  # labels come from this policy's sections
        return self._result(lang, Intent.QUESTION, decision.confidence, offered,
                            self._quote(section, tokens), evidence.explanation())

    def answer_from(self, lang: str, section_id: str, text: str) -> Answer | None:
        """A section's answer to a question, quoting what in it is closest to the question (for staff who
        name the right section, and for the quote benchmark)."""
        section = self.section(lang, section_id)
        if section is None or lang not in self._models:
            return None
        return self._quote(section, _tokens_for(self._models[lang], text))

    def _quote(self, section: Section, tokens: list[str]) -> Answer:
        model = self._models[section.lang]
        vectors = self._sentence_vectors.get((section.lang, section.id))
        if vectors is None:
            vectors = sentence_vectors(model.vectoriser, model.sentence_tokens[section.id])
            self._sentence_vectors[(section.lang, section.id)] = vectors
        chosen, marked = choose_sentences(model.vectoriser, model.sentence_tokens[section.id],
                                          model.vectoriser.vector(tokens), section, vectors)
        return self._render(section, marked, chosen)

    def evidence(self, text: str, lang: str | None = None) -> tuple[Evidence, list[str]] | Understanding:
        """What the models say about a message (and its tokens), or the understanding of a message with no
        word the engine knows."""
        if lang != "en" and not CYRILLIC.search(text):
            russian = self._spelled_in_cyrillic(text)
            if russian is not None:
                text, lang = russian, "ru"
        if lang not in LANGUAGES:
            lang = detect_language(text, self.default_language)
        model = self._models[lang]
        tokens = _tokens_for(model, text)
        columns, values = model.vectoriser.vector(tokens)
        if not len(columns):
            # No word the engine knows: a reaction ("👍", "))") or something it cannot read.
            intent = Intent.GREETING if _only_emoji(text) or not text.strip() else Intent.OUT_OF_SCOPE
            return self._result(lang, intent, 0.5, [], None, {})
        log_p = model.classifier.log_probabilities(columns, values)
        support = np.array([model.support.get(label, 0) for label in [*model.section_ids, UNANSWERED]], dtype=float)
        return Evidence(lang, model.classifier.labels, log_p, model.section_ids,
                        model.reader.similarities(columns, values), support,
                        _closest_learnt(model, columns, values)), tokens

    def _render(self, section: Section, marked: list[int], chosen: list[int]) -> Answer:
        return render_answer(self._translator, section, chosen, marked, self.url, self.children(section.lang, section.id),
                             self._policy.version, self.effective_date)

    def _spelled_in_cyrillic(self, text: str) -> str | None:
        """The text in Cyrillic when it is Russian typed in Latin letters or on the English layout:
        few of its words are English the engine knows, and most words of one respelling are Russian."""
        # The first words tell; a long English letter must not be stemmed twice just to learn it is English.
        words = [w for w in tokenize(text[:LATIN_CHECK_CHARS]) if len(w) > 1 and w.isalpha() and w not in PLACEHOLDERS]
        if not words:
            return None
        english = self._models["en"].normaliser
        morphology = Morphology.shared()
        allowed = ENGLISH_SHARE_OF_LATIN * len(words)
        known = 0
        for word in words:
            known += english.in_vocabulary(morphology.stem(word))
            if known > allowed:
                return None
        best: tuple[float, str] | None = None
        for respelled in (from_translit(text), from_wrong_layout(text)):
            russian = [w for w in tokenize(respelled) if len(w) > 1 and CYRILLIC.search(w)]
            if russian:
                share = sum(morphology.is_known(w) for w in russian) / len(russian)
                if share >= RUSSIAN_SHARE_OF_RESPELLED and (best is None or share > best[0]):
                    best = (share, respelled)
        return best[1] if best else None

    def _result(self, lang: str, intent: Intent, confidence: float, sections: list[RankedSection],
                answer: Answer | None, explanation: dict[str, float], abstained: bool = False,
                unanswered: bool = False) -> Understanding:
        return Understanding(lang=lang, intent=intent, confidence=round(_clamp(confidence), 4), sections=sections,
                             answer=answer, policy_version=self._policy.version, abstained=abstained,
                             unanswered=unanswered, explanation=explanation)


def _closest_learnt(model: _LanguageModel, columns: np.ndarray, values: np.ndarray) -> str | None:
    """The label staff gave the taught question closest to this one, when it is close enough."""
    best: tuple[float, str] | None = None
    if not len(columns):
        return None
    mine = dict(zip(columns.tolist(), values.tolist(), strict=True))
    for taught_columns, taught_values, label in model.learnt:
        similarity = sum(mine.get(c, 0.0) * v for c, v in zip(taught_columns.tolist(), taught_values.tolist(),
                                                               strict=True))
        if similarity >= LEARNT_SIMILARITY and (best is None or similarity > best[0]):
            best = (similarity, label)
    return best[1] if best else None


def _only_emoji(text: str) -> bool:
    """A thumbs-up or a smiley alone is a reaction, the chat form of "thanks"."""
    symbols = [c for c in text if not c.isspace()]
    return bool(symbols) and all(unicodedata.category(c) in EMOJI_CATEGORIES or c in EMOJI_JOINERS for c in symbols)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


# ---- the model cache ---------------------------------------------------------------------------------------

def _fingerprint(data: TrainingData, settings: Settings) -> str:
    """A hash of everything a language's models are fitted from."""
    digest = hashlib.sha256(MODEL_FORMAT.encode())
    digest.update(repr(settings).encode())
    digest.update(json.dumps([data.curated.stopwords, data.curated.overrides, data.curated.synonyms,
                              {k: v.examples for k, v in data.curated.intents.items()},
                              {k: v.examples for k, v in data.curated.sections.items()},
                              data.curated.asked, data.curated.asked_intents,
                              sorted(data.curated.labelled_against or ()),
                              data.curated.labelled_against is None,
                              [(s.id, s.title, s.text) for s in data.sections],
                              [(e.lang, e.text, e.section_id) for e in data.learnt]],
                             ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()[:32]


def _private_directory(path: Path) -> bool:
    """Only a directory of ours that nobody else may write is trusted to hold pickles."""
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _cached_model(data: TrainingData, settings: Settings, cache_dir: Path | str | None) -> _LanguageModel:
    if cache_dir is None:
        return build_model(data, settings)
    folder = Path(cache_dir)
    path = folder / f"engine-{data.sections[0].lang if data.sections else 'xx'}-{_fingerprint(data, settings)}.pickle"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("engine cache %s unusable (%s); fitting without it", folder, exc.strerror)
        return build_model(data, settings)
    if not _private_directory(folder):
        log.warning("engine cache %s is writable by others; fitting without it", folder)
        return build_model(data, settings)
    # Processes starting together (a restart of several bots, the test suite) fit once: the others wait.
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _load_or_fit(path, folder, data, settings)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _load_or_fit(path: Path, folder: Path, data: TrainingData, settings: Settings) -> _LanguageModel:
    try:
        with path.open("rb") as stream:
            model = pickle.load(stream)
        if isinstance(model, _LanguageModel):
            return model
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        pass
    model = build_model(data, settings)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".engine-", delete=False) as written:
            pickle.dump(model, written, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(written.name, path)
        # Several policy folders may share a cache (tests, staging): keep the newest few per language.
        kept = sorted(folder.glob(f"engine-{path.name.split('-')[1]}-*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-CACHE_KEEP]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("engine cache %s not written (%s)", folder, exc.strerror)
    return model
