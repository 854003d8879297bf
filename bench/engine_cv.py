"""Choose the engine's constants by cross-validation on the tuning sets; anyone can rerun it.

    .venv/bin/python bench/engine_cv.py [--folds 5] [--fit C,TEXT,BALANCE ...]

For each fitting setting (``--fit``: regularisation C, weight of a section-text sentence, class balance):
- k-fold cross-validation grouped by labelled set (each set was written by its own author, so a fold's sets
  are as new to the engine as a stranger's messages): every message is scored by models fitted without
  its set;
- leave-one-section-out: each section in turn keeps its title, text and first 10 curated examples and loses
  every other example and labelled message; its questions are scored by models fitted that way.
The models are fitted once per fold; the decision constants (classifier and reader weights, "not in the
policy" closeness, min_confidence, support half) are then searched on what the models said. The objective,
per language: the mean of top-1 (k folds) and for the left-out sections the mean of their top-1 and the top-1 of the other sections' questions of
one fold the models never saw (so a thin new section that took every question would not win), less
SHORTFALL_COST times what falls short of the targets of issue 11 (TARGETS: recognition of questions the
policy does not answer, top-1 of left-out sections, abstention on greetings and off-topic, intent). It prints the best
settings and the figures of the ones in bot/policy/engine.py; no message text.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from engine_data import (
    KEPT_EXAMPLES,
    POLICY,
    Labelled,
    Scores,
    Seen,
    evidence_for,
    fitted_engine,
    in_language,
    labelled,
    score,
    training_data,
    tuning_sets,
)

from bot.config import REPO_ROOT, load_config
from bot.policy.engine import UNANSWERED, Evidence, Settings, decide
from bot.policy.loader import LANGUAGES, load_policy
from bot.policy.models import Intent, Understanding

OTHERS = "other sections"
# The targets: below one, each point short costs this many points of top-1.
TARGETS = {"unanswered": 0.85, "left_out": 0.80, "abstain": 0.95, "intent": 0.97}
SHORTFALL_COST = 5.0
CLASSIFIER_WEIGHTS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
READER_WEIGHTS = (0.0, 1.0, 2.0, 5.0)
UNANSWERED_SIMILARITIES = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2)
SUPPORT_HALVES = (0.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
MIN_CONFIDENCES = (0.0, 0.15, 0.3)


def collect(settings: Settings, messages: list[Labelled], folds: int) -> tuple[list[Labelled], list[Seen],
                                                                             list[Labelled], list[Seen]]:
    policy = load_policy(POLICY)
    groups = sorted({m.group for m in messages})
    fold_of = {group: number % folds for number, group in enumerate(groups)}
    cv_messages: list[Labelled] = []
    cv_seen: list[Seen] = []
    for fold in range(folds):
        train = [m for m in messages if fold_of[m.group] != fold]
        test = [m for m in messages if fold_of[m.group] == fold]
        engine = fitted_engine(policy, training_data(policy, train), settings)
        cv_messages += test
        cv_seen += evidence_for(engine, test)
        print(f"  fold {fold + 1}/{folds} fitted", flush=True)
    # Left-one-section-out models are fitted without fold 0 as well, and also score fold 0's questions about
    # the other sections: a thin new section must not take their questions (its precision, not only recall).
    loso_messages: list[Labelled] = []
    loso_seen: list[Seen] = []
    others: list[Labelled] = []
    others_seen: list[Seen] = []
    for section in policy.sections["en"]:
        train = [m for m in messages if fold_of[m.group] != 0]
        engine = fitted_engine(policy, training_data(policy, train, left_out=section.id,
                                                     kept_examples=KEPT_EXAMPLES), settings)
        test = [m for m in messages if m.section == section.id]
        loso_messages += test
        loso_seen += evidence_for(engine, test)
        other = [m for m in messages if fold_of[m.group] == 0 and m.section and m.section != section.id]
        others += [replace(m, group=OTHERS) for m in other]
        others_seen += evidence_for(engine, other)
        print(f"  left out {section.id}", flush=True)
    return cv_messages, cv_seen, loso_messages + others, loso_seen + others_seen


class Grid:
    """The decision for every message under many settings at once (numpy over all messages). Only the
    section ranking varies with the searched settings; the intent comes from the classifier alone. The
    best settings are then scored again by ``score`` (the engine's own ``decide``) as a check."""

    def __init__(self, messages: list[Labelled], seen: list[Seen], lang: str,
                 only: Callable[[Labelled], bool] = lambda m: True) -> None:
        keep = [i for i, m in enumerate(messages) if m.lang == lang and only(m)]
        self.count = len(keep)
        evidence = [seen[i] for i in keep]
        mine = [messages[i] for i in keep]
        reference = Settings()
        self.kind = np.array([(2 if m.section else 1) if m.intent == "question" else
                              3 if m.intent in ("greeting", "out_of_scope") else 0 for m in mine])
        self.intent_ok = np.zeros(len(mine), dtype=bool)
        self.question = np.zeros(len(mine), dtype=bool)
        labels = [*next(e.section_ids for e in evidence if isinstance(e, Evidence)), UNANSWERED]
        self.classifier = np.zeros((len(mine), len(labels)))
        self.reader = np.zeros((len(mine), len(labels) - 1))
        self.support = np.ones((len(mine), len(labels)))
        self.hit = np.zeros((len(mine), len(labels)), dtype=bool)
        for row, (message, found) in enumerate(zip(mine, evidence, strict=True)):
            accepted = message.accepted
            self.hit[row] = [label in accepted for label in labels]
            if isinstance(found, Understanding):
                self.intent_ok[row] = found.intent.value == message.intent
                continue
            intent = decide(found, reference, 0.0).intent
            self.intent_ok[row] = intent.value == message.intent
            self.question[row] = intent is Intent.QUESTION
            position = {label: i for i, label in enumerate(found.labels)}
            floor = float(found.log_p.min())
            self.classifier[row] = [found.log_p[position[label]] if label in position else floor for label in labels]
            self.reader[row] = found.reader
            self.support[row] = found.support

    def scores(self, classifier_weight: float, reader_weight: float, unanswered: float,
               min_confidence: float, support_half: float) -> dict[str, float]:
        trusted = self.support / (self.support + support_half) if support_half else 1.0
        combined = classifier_weight * self.classifier * trusted + reader_weight * np.concatenate(
            [self.reader, np.full((self.count, 1), unanswered)], axis=1)
        best = combined.argmax(axis=1)
        shares = np.exp(combined - combined.max(axis=1, keepdims=True))
        share = 1.0 / shares.sum(axis=1)
        answered = self.question & (best != combined.shape[1] - 1) & (share >= min_confidence)
        right = answered & self.hit[np.arange(self.count), best]

        def part(mask: np.ndarray, good: np.ndarray) -> float:
            return float(good[mask].mean()) if mask.any() else 0.0

        return {"top1": part(self.kind == 2, right), "intent": float(self.intent_ok.mean()),
                "abstain": part(self.kind == 3, ~answered), "unanswered": part(self.kind == 1, ~answered)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fit", nargs="*", default=None, help="fitting settings C,TEXT,BALANCE (default: the engine's)")
    parser.add_argument("--evidence", type=Path, default=None,
                        help="a folder to keep what the fitted models said, so a rerun searches without refitting")
    args = parser.parse_args()
    config = load_config(REPO_ROOT / "config.toml", environ={})
    base = Settings()
    fits = [base] if not args.fit else [
        replace(base, regularisation=float(c), section_text_weight=float(t), class_balance=float(b))
        for c, t, b in (item.split(",") for item in args.fit)]
    messages = labelled(tuning_sets())
    for fit in fits:
        started = time.perf_counter()
        print(f"fitting: C={fit.regularisation} text={fit.section_text_weight} balance={fit.class_balance}", flush=True)
        saved = args.evidence / f"cv-{fit.regularisation}-{fit.section_text_weight}-{fit.class_balance}.pickle" \
            if args.evidence else None
        if saved is not None and saved.exists():
            with saved.open("rb") as stream:
                cv_m, cv_s, lo_m, lo_s = pickle.load(stream)
        else:
            cv_m, cv_s, lo_m, lo_s = collect(fit, messages, args.folds)
            if saved is not None:
                saved.parent.mkdir(parents=True, exist_ok=True)
                with saved.open("wb") as stream:
                    pickle.dump((cv_m, cv_s, lo_m, lo_s), stream)
        grids = {lang: (Grid(cv_m, cv_s, lang), Grid(lo_m, lo_s, lang, lambda m: m.group != OTHERS),
                        Grid(lo_m, lo_s, lang, lambda m: m.group == OTHERS)) for lang in LANGUAGES}
        searched: list[tuple[float, float, float, float, float, float]] = []
        for cw, rw, us, mc, sh in itertools.product(CLASSIFIER_WEIGHTS, READER_WEIGHTS, UNANSWERED_SIMILARITIES,
                                                    MIN_CONFIDENCES, SUPPORT_HALVES):
            objective = 0.0
            for cv_grid, lo_grid, other_grid in grids.values():
                folds = cv_grid.scores(cw, rw, us, mc, sh)
                own = lo_grid.scores(cw, rw, us, mc, sh)["top1"]
                others = other_grid.scores(cw, rw, us, mc, sh)["top1"]
                shortfall = sum(max(0.0, target - value) for target, value in (
                    (TARGETS["unanswered"], folds["unanswered"]), (TARGETS["left_out"], own),
                    (TARGETS["abstain"], folds["abstain"]), (TARGETS["intent"], folds["intent"])))
                objective += ((folds["top1"] + others) / 2 - SHORTFALL_COST * shortfall) / len(LANGUAGES)
            searched.append((objective, cw, rw, us, mc, sh))
        searched.sort(key=lambda r: -r[0])
        results: list[tuple[float, Settings, float, dict[str, tuple[Scores, Scores, Scores]]]] = []
        wanted = searched[:5] + [r for r in searched if r[1:] == (
            base.classifier_weight, base.reader_weight, base.unanswered_similarity, config.policy.min_confidence,
            base.support_half)]
        for objective, cw, rw, us, mc, sh in wanted:
            settings = replace(fit, classifier_weight=cw, reader_weight=rw, unanswered_similarity=us, support_half=sh)
            per_lang = {lang: (score(cv_m, cv_s, settings, mc, in_language(lang)),
                               score(lo_m, lo_s, settings, mc, in_language(lang, lambda m: m.group != OTHERS)),
                               score(lo_m, lo_s, settings, mc, in_language(lang, lambda m: m.group == OTHERS)))
                        for lang in LANGUAGES}
            results.append((objective, settings, mc, per_lang))
        print(f"fitted in {time.perf_counter() - started:.0f} s; {len(searched)} decision settings searched")
        for label, row in [*(("best", r) for r in results[:5]), *(("current", r) for r in results[5:])]:
            objective, settings, mc, per_lang = row
            print(f"{label}: objective {objective:.4f}  support half {settings.support_half}  classifier {settings.classifier_weight}  reader "
                  f"{settings.reader_weight}  not-in-policy closeness {settings.unanswered_similarity}  "
                  f"min_confidence {mc}")
            for lang, (cv, lo, other) in per_lang.items():
                print(f"    {lang} cross-validated: {cv.line()}")
                print(f"    {lang} left-one-section-out: its questions top-1 {lo.top1:.3f} (of {lo.questions}); "
                      f"other sections' unseen questions top-1 {other.top1:.3f} (of {other.questions})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
