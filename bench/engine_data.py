"""What the engine benchmarks share: the labelled sets, engines fitted on part of the data, and scoring a
set of messages under any settings from what the models say about each message (fitted once).

Never prints a message text.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeAlias

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.i18n import get_translator  # noqa: E402
from bot.policy.curated import Curated, load_curated  # noqa: E402
from bot.policy.engine import (  # noqa: E402
    Evidence,
    PolicyEngine,
    Settings,
    TrainingData,
    build_model,
    decide,
)
from bot.policy.loader import LANGUAGES  # noqa: E402
from bot.policy.models import Intent, Policy, Understanding  # noqa: E402

MESSAGES = ROOT / "tests" / "data" / "messages"
POLICY = ROOT / "policy_text"
# The examples a section keeps when it is left out ("its first 10 curated examples per language").
KEPT_EXAMPLES = 10


def read_set(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise SystemExit(f"{path} not found")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tuning_sets() -> list[Path]:
    """Every set the engine learns from (the same as scripts/export_asked.py exports)."""
    def number(path: Path) -> int:
        digits = path.stem.removeprefix("dev")
        return int(digits) if digits else 1
    return [*sorted(MESSAGES.glob("dev*.jsonl"), key=number), *sorted(MESSAGES.glob("*-dev.jsonl"))]


def held_out_sets() -> list[Path]:
    return sorted(MESSAGES.glob("holdout*.jsonl"), key=lambda p: int(p.stem.removeprefix("holdout") or 1))


@dataclass
class Labelled:
    """A labelled message: ``section`` is None for a non-question and for a question the policy does not
    answer (``intent == "question"``)."""

    lang: str
    text: str
    intent: str
    section: str | None
    also: tuple[str, ...]
    group: str

    @property
    def accepted(self) -> set[str]:
        return {self.section, *self.also} if self.section else set()


def labelled(paths: Iterable[Path]) -> list[Labelled]:
    return [Labelled(row["lang"], row["text"], row["intent"], row.get("section"), tuple(row.get("also") or ()),
                     path.stem) for path in paths for row in read_set(path)]


def training_data(policy: Policy, messages: list[Labelled], policy_dir: Path = POLICY,
                  left_out: str | None = None, kept_examples: int | None = None) -> dict[str, TrainingData]:
    """Training data per language: curated files, and ``messages`` as what people asked (instead of the
    exported asked.jsonl). ``left_out``: a section that keeps only its title, text and first
    ``kept_examples`` curated examples; none of the messages about it."""
    data: dict[str, TrainingData] = {}
    for lang in LANGUAGES:
        curated = load_curated(policy_dir, lang, [s.id for s in policy.sections[lang]])
        mine = [m for m in messages if m.lang == lang and not (left_out and m.section == left_out)]
        curated = Curated(stopwords=curated.stopwords, overrides=curated.overrides, synonyms=curated.synonyms,
                          intents=curated.intents, sections=dict(curated.sections),
                          asked=[(m.text, m.section) for m in mine if m.intent == Intent.QUESTION.value],
                          asked_intents=[(m.text, m.intent) for m in mine if m.intent != Intent.QUESTION.value])
        if left_out is not None and left_out in curated.sections:
            kept = curated.sections[left_out].examples[:kept_examples or 0]
            curated.sections[left_out] = replace(curated.sections[left_out], examples=kept)
        data[lang] = TrainingData(curated, policy.sections[lang])
    return data


def fitted_engine(policy: Policy, data: dict[str, TrainingData], settings: Settings) -> PolicyEngine:
    models = {lang: build_model(data[lang], settings) for lang in LANGUAGES}
    return PolicyEngine(policy, models, "https://example.org/policy/", 0.0, "ru", get_translator(), settings)


Seen: TypeAlias = Evidence | Understanding


def evidence_for(engine: PolicyEngine, messages: list[Labelled]) -> list[Seen]:
    """What the models say about each message (no language hint: detection is part of it)."""
    found: list[Seen] = []
    for message in messages:
        result = engine.evidence(message.text)
        found.append(result if isinstance(result, Understanding) else result[0])
    return found


def in_language(lang: str, also: Callable[[Labelled], bool] = lambda m: True) -> Callable[[Labelled], bool]:
    return lambda m: m.lang == lang and also(m)


@dataclass
class Scores:
    top1: float
    intent: float
    abstain: float
    unanswered: float
    questions: int
    messages: int

    def line(self) -> str:
        return (f"top-1 {self.top1:.3f} (of {self.questions})  intent {self.intent:.3f}  abstain {self.abstain:.3f}"
                f"  not-in-policy {self.unanswered:.3f}  ({self.messages} messages)")


def score(messages: list[Labelled], seen: list[Seen], settings: Settings, min_confidence: float,
          keep: Callable[[Labelled], bool] = lambda m: True) -> Scores:
    """top-1 on questions with a section; intent; share of greetings and off-topic not answered with a
    section; share of questions the policy does not answer that are not answered with a section."""
    counts: dict[str, float] = defaultdict(float)
    for message, found in zip(messages, seen, strict=True):
        if not keep(message):
            continue
        if isinstance(found, Understanding):
            intent, section, answered = found.intent.value, None, False
        else:
            decision = decide(found, settings, min_confidence)
            intent = decision.intent.value
            answered = decision.intent is Intent.QUESTION and not decision.abstained
            section = decision.ranked[0][0] if answered else None
        counts["messages"] += 1
        counts["intent"] += intent == message.intent
        if message.intent == Intent.QUESTION.value and message.section:
            counts["questions"] += 1
            counts["top1"] += section in message.accepted
        elif message.intent == Intent.QUESTION.value:
            counts["unanswerable"] += 1
            counts["unanswered"] += not answered
        elif message.intent in (Intent.GREETING.value, Intent.OUT_OF_SCOPE.value):
            counts["quiet"] += 1
            counts["abstained"] += not answered

    def share(part: str, whole: str) -> float:
        return counts[part] / counts[whole] if counts[whole] else 0.0

    return Scores(share("top1", "questions"), share("intent", "messages"), share("abstained", "quiet"),
                  share("unanswered", "unanswerable"), int(counts["questions"]), int(counts["messages"]))
