"""The engine facade: load the policy and curated examples once, then understand messages.

Understanding a message, in order:
1. language: the hint, else detected from the letters;
2. the text is cut into sentences; sentences that are only pleasantries ("Здравствуйте", "Best regards,
   John") are set aside, so a polite email is judged by its request;
3. every remaining sentence is scored against curated examples of each intent and each section
   (nearest examples + cue phrases); the best label wins: a section label means ``question``;
4. for questions, sections are ranked; below ``min_confidence`` the engine abstains (no section).

How a sentence relates to the writer changes what it can be: a sentence that only tells what happened
(past-tense verbs, Russian), a conditional question ("если я сменю почту, ...?"), or one about a stranger
acting on data ("what stops a stranger from editing my details") keeps only part of its likeness to a
request; a request score never comes from the whole letter more than from its best sentence.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.i18n import Translator, get_translator
from bot.policy.answer import choose_paragraphs, render_answer
from bot.policy.classifier import ExampleIndex
from bot.policy.curated import LabelData, load_curated
from bot.policy.language import CYRILLIC, detect_language
from bot.policy.loader import LANGUAGES, load_policy
from bot.policy.models import REQUEST_INTENTS, Answer, Intent, Policy, RankedSection, Section, Understanding
from bot.policy.morphology import PLACEHOLDERS, STEM_PREFIX, Morphology, Normaliser, tokenize
from bot.policy.text import request_text, sentences
from bot.policy.transliteration import from_translit, from_wrong_layout

# Long emails: the request is near the top; the rest only costs time.
MAX_SENTENCES = 25
MAX_TOKENS_PER_SENTENCE = 80
# ... and of a letter that asks something, only the asking sentences and the context nearest them are
# scored, this many in all: the same answers on every labelled set (leaving each recent tuning set out in
# turn: one more right), and a rambling nine-sentence letter costs two thirds of the time.
MAX_SCORED_SENTENCES = 6
# Sentences of section text itself count as examples, a little below curated questions.
SECTION_TEXT_WEIGHT = 0.8
# Questions people asked (the labelled tuning sets) count like curated examples: measured on a batch not
# yet tuned on, a lower weight (0.9) answered fewer questions right.
ASKED_WEIGHT = 1.0
# Their other messages (requests, greetings, off-topic) count less: measured leaving each recent tuning
# set out in turn, 0.6 answered 8 more Russian questions right with intents and abstention about even;
# 0.8 did a little better there but made conditional questions ("если я сменю почту, ...?") requests.
ASKED_INTENT_WEIGHT = 0.6
# A sentence whose best match is a pleasantry at least this close is a pleasantry.
GREETING_SIMILARITY = 0.5
# Small talk ("how are you?", "who are you") has at most this many words outside the pleasantries lexicon.
PLEASANTRY_MAX_WORDS = 1
SUBSTANTIVE_GREETING_FACTOR = 0.6
# A sentence with a pleasantry whose best other match scores below this is a pleasantry too.
POLITE_SENTENCE_CEILING = 0.4
# Labels whose required words are absent keep this share of their score.
UNMET_REQUIREMENT_FACTOR = 0.7
SECTION_PREFIX = "section:"
INTENT_PREFIX = "intent:"
# One-off costs (first use of each code path and of common words) are paid at load, not by a person:
# a chat line and a letter with salutation, story, question, quoted history and signature per language.
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
# Multi-sentence messages: weight of the best sentence against the whole text.
SENTENCE_WEIGHT = 0.5
# Sentences without a question mark, in a message that has one, count this much.
CONTEXT_SENTENCE_FACTOR = 0.75
# A sentence asks without a question mark too: "хочу понять, какие данные у вас остались", "I need to know
# which data you receive" (letters often put the request this way).
INDIRECT_QUESTION = re.compile(
    r"\b(?:(?:хочу|хотим|хотел[аи]? бы|хотелось бы|нужно|необходимо|важно|прошу)\s+(?:понять|узнать|уточнить|"
    r"выяснить|сообщить|разъяснить|пояснить)|подскажите|сообщите|расскажите|уточните|поясните|объясните|"
    r"(?:need|want|would like|'d like) to (?:know|understand|find out)|please (?:tell|let|confirm|explain)|"
    r"let me know|i wonder|wondering)\b",
    re.IGNORECASE,
)
# Several sentences: how much the off-topic label keeps of its score.
LETTER_CONTEXT_FACTOR = 0.8
# A letter that asks something: the off-topic score of its other sentences (the business context,
# "we plan to order a site from you") counts this much, so the context cannot outvote the question.
OFF_TOPIC_CONTEXT_FACTOR = 0.5
# In a message of several sentences, a sentence that only tells what happened ("менеджер связался",
# "я по ошибке указал почту коллеги") is context: its likeness to a request counts this much.
NARRATIVE_REQUEST_FACTOR = 0.4
# ... and in a message that asks nothing, one whose best match is a section below this says nothing.
WEAK_STORY_CEILING = 0.3
# Request cues count less in a conditional sentence ("if I delete cookies, ...").
CONDITIONAL_CUE_FACTOR = 0.3
CONDITIONAL_REQUEST_FACTOR = 0.7
CONDITION_WORDS = ("if", "если")
# "please confirm whether you hold my data and, if so, send a copy": "if so" leans on the ask before it;
# it makes nothing hypothetical, so these phrases are not read at all.
LEANING_CONDITION = re.compile(r"\b(?:if so|if yes|if any|if you do|если да|если есть|если так|если они есть)\b",
                               re.IGNORECASE)
# "what stops a stranger from deleting my records", "могут ли посторонние изменить данные": someone else
# doing it is a question about protection, not the writer asking us to delete or correct.
OUTSIDER_WORDS = ("stranger", "outsider", "hacker", "intruder", "attacker", "scammer", "criminal",
                  "посторонний", "хакер", "злоумышленник", "мошенник", "взломщик")
# "someone" is often our own staff ("can someone delete my account"): an outsider only when the sentence
# speaks of stopping or preventing it.
VAGUE_OUTSIDER_WORDS = ("someone", "somebody", "anyone", "anybody")
PREVENTION_WORDS = ("stop", "prevent", "without", "protect", "tamper", "unauthorized", "помешать", "мешать",
                    "защитить", "защищать", "защищенный", "предотвратить", "ведома", "разрешения")
OUTSIDER_FACTOR = 0.35
# ... unless the writer also asks us to act ("please delete it all, I don't want strangers reading it").
PLEASE_WORDS = ("please", "pls", "kindly", "пожалуйста", "прошу")
GRATITUDE_WORDS = ("thanks", "thank you", "appreciate", "cheers", "спасибо", "благодарю", "благодарность")
# Emoji are "other symbols"; skin tones are modifiers; variation selectors and joiners glue them.
EMOJI_CATEGORIES = ("So", "Sk")
EMOJI_JOINERS = ("\u200d", "\ufe0f", "\ufe0e")
REQUEST_LABELS = frozenset(INTENT_PREFIX + i.value for i in REQUEST_INTENTS)


@dataclass
class _LanguageModel:
    normaliser: Normaliser
    index: ExampleIndex
    greeting_tokens: frozenset[str]
    condition_tokens: frozenset[str]
    outsider_stems: frozenset[str]
    vague_outsider_stems: frozenset[str]
    prevention_stems: frozenset[str]
    please_stems: frozenset[str]
    looked_for_prefixes: frozenset[str]
    gratitude_tokens: frozenset[str]
    paragraph_tokens: dict[str, list[set[str]]]


class PolicyEngine:
    def __init__(self, policy: Policy, models: dict[str, _LanguageModel], url: str, min_confidence: float,
                 default_language: str, translator: Translator) -> None:
        self._policy = policy
        self._models = models
        self.url = url
        self.min_confidence = min_confidence
        self.default_language = default_language
        self._translator = translator

    # ----- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path | str, url: str = "https://jetbit.ru/policy/", min_confidence: float = 0.15,
             default_language: str = "ru", translator: Translator | None = None) -> PolicyEngine:
        """Read sections and curated examples; raises PolicyLoadError naming a malformed file."""
        directory = Path(directory)
        policy = load_policy(directory)
        morphology = Morphology.shared()
        models = {lang: cls._build_model(directory, policy, lang, morphology) for lang in LANGUAGES}
        engine = cls(policy, models, url, min_confidence, default_language, translator or get_translator())
        for lang, texts in WARM_UP.items():
            for text in texts:
                engine.understand(text, lang=lang)  # the first calls pay one-off costs; not a user's message
        # The indexes are large and live as long as the process: keep the garbage collector from
        # rescanning them (full collections would otherwise pause a message now and then).
        gc.collect()
        gc.freeze()
        return engine

    @staticmethod
    def _build_model(directory: Path, policy: Policy, lang: str, morphology: Morphology) -> _LanguageModel:
        sections = policy.sections[lang]
        curated = load_curated(directory, lang, [s.id for s in sections])
        normaliser = Normaliser(morphology, curated.overrides, curated.synonyms, curated.stopwords)
        index = ExampleIndex()
        for name, data in curated.intents.items():
            _index_label(index, normaliser, INTENT_PREFIX + name, data)
        paragraph_tokens: dict[str, list[set[str]]] = {}
        for section in sections:
            label = SECTION_PREFIX + section.id
            curated_section = curated.sections.get(section.id)
            if curated_section is not None:
                _index_label(index, normaliser, label, curated_section)
            for sentence in sentences(section.title + "\n" + section.text):
                index.add(label, normaliser.learn(sentence), SECTION_TEXT_WEIGHT)
            paragraph_tokens[section.id] = [set(normaliser.learn(p)) for p in section.paragraphs]
        # Messages people sent come last, so their typos are repaired against everything curated.
        for text, section_id in curated.asked:
            index.add(SECTION_PREFIX + section_id, normaliser.learn(request_text(text), written_by_users=True),
                      ASKED_WEIGHT)
        for text, intent in curated.asked_intents:
            index.add(INTENT_PREFIX + intent, normaliser.learn(request_text(text), written_by_users=True),
                      ASKED_INTENT_WEIGHT)
        index.build()
        greeting = curated.intents[Intent.GREETING.value]
        greeting_tokens = frozenset(t for word in greeting.lexicon for t in normaliser.learn(word))
        condition_tokens = frozenset(t for word in CONDITION_WORDS for t in normaliser.tokens(word))
        gratitude_tokens = frozenset(t for word in GRATITUDE_WORDS for t in normaliser.tokens(word))
        outsider_stems = frozenset(stem for w in OUTSIDER_WORDS for stem in normaliser.stems(w))
        vague_outsider_stems = frozenset(stem for w in VAGUE_OUTSIDER_WORDS for stem in normaliser.stems(w))
        prevention_stems = frozenset(stem for w in PREVENTION_WORDS for stem in normaliser.stems(w))
        please_stems = frozenset(stem for w in PLEASE_WORDS for stem in normaliser.stems(w))
        return _LanguageModel(normaliser, index, greeting_tokens, condition_tokens, outsider_stems,
                              vague_outsider_stems, prevention_stems, please_stems,
                              frozenset(stem[:STEM_PREFIX] for stem in outsider_stems | vague_outsider_stems
                                        | prevention_stems | please_stems),
                              gratitude_tokens,
                              paragraph_tokens)

    # ----- what channels need --------------------------------------------------------------------

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
        return render_answer(self._translator, section, list(range(len(section.paragraphs))), self.url,
                             self.children(lang, section_id))

    # ----- understanding -------------------------------------------------------------------------

    def understand(self, text: str, lang: str | None = None) -> Understanding:
        if lang != "en" and not CYRILLIC.search(text):
            russian = self._spelled_in_cyrillic(text)
            if russian is not None:
                text, lang = russian, "ru"
        if lang not in LANGUAGES:
            lang = detect_language(text, self.default_language)
        model = self._models[lang]
        scores, all_tokens, pleasantry = self._score(model, text)
        if not scores:
            pleasantry = pleasantry or _only_emoji(text)
            intent = Intent.GREETING if pleasantry else Intent.OUT_OF_SCOPE
            confidence = 0.9 if pleasantry else 0.5
            return self._result(lang, intent, confidence, [], None, {})
        best_label = max(scores, key=lambda label: (scores[label], label))
        explanation = dict(sorted(scores.items(), key=lambda kv: -kv[1])[:5])
        if best_label.startswith(INTENT_PREFIX):
            intent = Intent(best_label[len(INTENT_PREFIX):])
            return self._result(lang, intent, _clamp(scores[best_label]), [], None, explanation)

        ranked = sorted(((label[len(SECTION_PREFIX):], score) for label, score in scores.items()
                         if label.startswith(SECTION_PREFIX)), key=lambda item: (-item[1], item[0]))
        confidence = _question_confidence([score for _, score in ranked])
        if confidence < self.min_confidence:
            return self._result(lang, Intent.QUESTION, confidence, [], None, explanation, abstained=True)
        sections = []
        for section_id, score in ranked[:3]:
            section = self._policy.section(lang, section_id)
            if section is not None:
                sections.append(RankedSection(section.id, section.title, _clamp(score)))
        top = self._policy.section(lang, ranked[0][0])
        assert top is not None  # ranked ids come from this policy's sections
        paragraphs = choose_paragraphs(top, model.paragraph_tokens[top.id], set(all_tokens))
        answer = render_answer(self._translator, top, paragraphs, self.url, self.children(lang, top.id))
        return self._result(lang, Intent.QUESTION, confidence, sections, answer, explanation)

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

    def _score(self, model: _LanguageModel, text: str) -> tuple[dict[str, float], list[str], bool]:
        """Score per label for the message's request sentences; also all their tokens, and whether the
        message held a pleasantry."""
        content: list[list[str]] = []
        substantive: list[bool] = []
        asks: list[bool] = []
        narrative: list[bool] = []
        outsider: list[bool] = []
        pleasantry = False
        parts = sentences(request_text(text))[:MAX_SENTENCES]
        for sentence in parts:
            tokens = model.normaliser.tokens(LEANING_CONDITION.sub(" ", sentence))[:MAX_TOKENS_PER_SENTENCE]
            if not tokens:
                continue
            meaningful = [t for t in tokens if model.normaliser.in_vocabulary(t) and t not in model.greeting_tokens]
            if len(meaningful) < len(tokens) or not meaningful:
                pleasantry = pleasantry or any(t in model.greeting_tokens for t in tokens)
            if meaningful:
                content.append(tokens)
                substantive.append(len(meaningful) > PLEASANTRY_MAX_WORDS)
                asks.append("?" in sentence or bool(INDIRECT_QUESTION.search(sentence)))
                outsider.append(_outsider_acts(model, sentence))
                narrative.append(len(parts) > 1 and "?" not in sentence and model.normaliser.is_narrative(sentence))
        if len(content) > MAX_SCORED_SENTENCES and any(asks):
            # A long letter that asks something: the asking sentences and the context nearest to them.
            asking = [i for i, a in enumerate(asks) if a]
            ranked = sorted(range(len(content)), key=lambda i: (min(abs(i - j) for j in asking), i))
            chosen = sorted(ranked[:MAX_SCORED_SENTENCES])
            content = [content[i] for i in chosen]
            substantive, asks, narrative, outsider = (
                [flags[i] for i in chosen] for flags in (substantive, asks, narrative, outsider))
        greeting_label = INTENT_PREFIX + Intent.GREETING.value
        out_of_scope = INTENT_PREFIX + Intent.OUT_OF_SCOPE.value
        index = model.index
        per_sentence: list[dict[str, float]] = []
        kept: list[list[str]] = []
        whole_vector: dict[str, float] = defaultdict(float)
        whole_dots = index.dots({})
        any_asks = any(asks)
        for tokens, is_substantive, is_question, is_story, by_outsider in zip(content, substantive, asks, narrative,
                                                                              outsider, strict=True):
            vector = index.vector(tokens)
            dots = index.dots(vector)
            sentence_scores = self._combine(model, index.label_similarities(dots, vector), tokens)
            if any_asks and not is_question:
                # In a letter with a question mark, the asking sentence is the request; the others
                # are context ("we ordered a site from you last year").
                sentence_scores = {k: v * (OFF_TOPIC_CONTEXT_FACTOR if k == out_of_scope else CONTEXT_SENTENCE_FACTOR)
                                   for k, v in sentence_scores.items()}
            if is_question and any(t in model.condition_tokens for t in tokens):
                # "если я напишу неверный номер, вы мне перезвоните?" asks what would happen; it does
                # not ask for the act itself.
                sentence_scores = {k: v * CONDITIONAL_REQUEST_FACTOR if k in REQUEST_LABELS else v
                                   for k, v in sentence_scores.items()}
            if by_outsider:
                sentence_scores = {k: v * OUTSIDER_FACTOR if k in REQUEST_LABELS else v
                                   for k, v in sentence_scores.items()}
            if is_story and len(content) > 1:
                sentence_scores = {k: v * NARRATIVE_REQUEST_FACTOR if k in REQUEST_LABELS else v
                                   for k, v in sentence_scores.items()}
            if is_substantive and greeting_label in sentence_scores:
                # A sentence with several real words is rarely small talk; it needs a clear match.
                sentence_scores[greeting_label] *= SUBSTANTIVE_GREETING_FACTOR
            if not sentence_scores:
                continue
            best = max(sentence_scores, key=lambda label: sentence_scores[label])
            if best == greeting_label and sentence_scores[best] >= GREETING_SIMILARITY:
                pleasantry = True
                continue
            if (is_story and not any_asks and best.startswith(SECTION_PREFIX)
                    and sentence_scores[best] < WEAK_STORY_CEILING):
                # "we met at your stand yesterday": in a message that asks nothing, a story close to no
                # section asks nothing, and must not turn a friendly note into a question. (A story close
                # to off-topic stays: "our launch date was the 15th and the site still isn't live".)
                continue
            grateful = any(t in model.gratitude_tokens for t in tokens)
            if grateful and best != greeting_label and sentence_scores[best] < POLITE_SENTENCE_CEILING:
                # "Thank you for the quick response, everything works now": thanks, and nothing
                # else in the sentence is close to any request or question.
                pleasantry = True
                continue
            per_sentence.append(sentence_scores)
            kept.append(tokens)
            # The whole text's vector is the sum of its sentences', so its dot products are too.
            for key, value in vector.items():
                whole_vector[key] += value
            whole_dots += dots
        if not kept:
            return {}, [], pleasantry
        all_tokens = [t for tokens in kept for t in tokens]
        if len(kept) == 1:
            return per_sentence[0], all_tokens, pleasantry
        # Several sentences: the best single sentence matters most (the request is usually one of
        # them), the whole text breaks ties with context.
        whole = self._combine(model, index.label_similarities(whole_dots, whole_vector), all_tokens)
        scores: dict[str, float] = {}
        for label in set(whole).union(*per_sentence):
            best_sentence = max(s.get(label, 0.0) for s in per_sentence)
            whole_score = whole.get(label, 0.0)
            if label in REQUEST_LABELS:
                # A request is made in one sentence; words spread over the story around it cannot make one.
                whole_score = min(whole_score, best_sentence)
            scores[label] = SENTENCE_WEIGHT * best_sentence + (1.0 - SENTENCE_WEIGHT) * whole_score
        if out_of_scope in scores:
            # Letters often explain their business context ("we plan to order a site from you") before
            # the privacy question; that context must not make the whole letter off-topic.
            scores[out_of_scope] *= LETTER_CONTEXT_FACTOR
        return scores, all_tokens, pleasantry

    @staticmethod
    def _combine(model: _LanguageModel, similarity: dict[str, float], tokens: list[str]) -> dict[str, float]:
        bonus = model.index.cue_bonus(tokens)
        if any(t in model.condition_tokens for t in tokens):
            # "if I clear my cookies..." asks about the policy; it is not a request to act.
            bonus = {label: value * CONDITIONAL_CUE_FACTOR if label in REQUEST_LABELS else value
                     for label, value in bonus.items()}
        scores = {label: similarity.get(label, 0.0) + bonus.get(label, 0.0) for label in set(similarity) | set(bonus)}
        for label in model.index.unmet(tokens):
            if label in scores:
                # "update it in your records" shares words with "will you update the policy?", but
                # without any policy word it is not about policy changes.
                scores[label] *= UNMET_REQUIREMENT_FACTOR
        return scores

    def _result(self, lang: str, intent: Intent, confidence: float, sections: list[RankedSection],
                answer: Answer | None, explanation: dict[str, float], abstained: bool = False) -> Understanding:
        return Understanding(lang=lang, intent=intent, confidence=round(confidence, 4), sections=sections,
                             answer=answer, policy_version=self._policy.version, abstained=abstained,
                             explanation=explanation)

    # ----- learning from staff: PLACEHOLDER (branch learn-from-staff), replaced by the engine's own learn ----

    def learn(self, lang: str, text: str, section_id: str | None) -> None:
        """Teach at once that this question means ``section_id`` (None: the policy does not answer it).

        Placeholder until the engine learns examples for real (ENGINE_API.md): an exact-text memory, keyed by
        ``bot.masking.learning_key`` (masked, case and spacing ignored) and consulted after the model, so
        the same question is answered as staff said. Kept in this one method: the first call wraps
        ``understand`` on this instance."""
        from bot.masking import learning_key  # bot.masking reads bot.policy.text: imported when first used

        if section_id is not None and self.section(lang, section_id) is None:
            raise ValueError(f"unknown section {section_id!r} in {lang!r}")
        memory: dict[tuple[str, str], str | None] = self.__dict__.setdefault("_learnt", {})
        memory[(lang, learning_key(text))] = section_id
        if "understand" in self.__dict__:
            return
        understand_by_model = self.understand

        def understand(text: str, lang: str | None = None) -> Understanding:
            result = understand_by_model(text, lang)
            key = (result.lang, learning_key(text))
            if key not in memory:
                return result
            taught = memory[key]
            section = self.section(result.lang, taught) if taught is not None else None
            if section is None:
                return Understanding(lang=result.lang, intent=Intent.QUESTION, confidence=1.0, sections=[],
                                     answer=None, policy_version=self._policy.version, abstained=True,
                                     unanswered=True, explanation={"learnt": 1.0})
            return Understanding(lang=result.lang, intent=Intent.QUESTION, confidence=1.0,
                                 sections=[RankedSection(section.id, section.title, 1.0)],
                                 answer=self.answer_for_section(result.lang, section.id),
                                 policy_version=self._policy.version, explanation={"learnt": 1.0})

        self.__dict__["understand"] = understand


def _outsider_acts(model: _LanguageModel, sentence: str) -> bool:
    """Whether the sentence is about someone else deleting or changing data (a stranger, or "someone"
    with "stop"/"prevent")."""
    stems = model.normaliser.stems(sentence, model.looked_for_prefixes)
    about_outsider = bool(stems & model.outsider_stems
                          or (stems & model.vague_outsider_stems and stems & model.prevention_stems))
    if not about_outsider or stems & model.please_stems:
        return False
    return not model.normaliser.has_imperative(sentence)


def _only_emoji(text: str) -> bool:
    """A thumbs-up or a smiley alone is a reaction, the chat form of "thanks"."""
    symbols = [c for c in text if not c.isspace()]
    return bool(symbols) and all(unicodedata.category(c) in EMOJI_CATEGORIES or c in EMOJI_JOINERS for c in symbols)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def _question_confidence(scores: list[float]) -> float:
    """High when the best section is close to a curated question and clearly ahead of the next one."""
    if not scores:
        return 0.0
    top = scores[0]
    second = scores[1] if len(scores) > 1 else 0.0
    margin = min(1.0, (top - second) / 0.15)
    return _clamp(top * (0.7 + 0.3 * margin))


def _index_label(index: ExampleIndex, normaliser: Normaliser, label: str, data: LabelData) -> None:
    """One intent's or section's curated examples, cues, blockers and required words, into the index."""
    for example in data.examples:
        index.add(label, normaliser.learn(example))
    for cue in data.cues:
        index.add_cue(label, normaliser.learn(cue), data.cue_weight)
    for cue in data.specific_cues:
        index.add_cue(label, normaliser.learn(cue), data.specific_cue_weight)
    index.add_blockers(label, [t for word in data.unless for t in normaliser.learn(word)])
    index.add_requirements(label, [t for word in data.requires for t in normaliser.learn(word)])
