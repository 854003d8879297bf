"""Choose the engine's constants by cross-validation on the tuning sets; anyone can rerun it.

    .venv/bin/python bench/engine_cv.py [--folds 5] [--fit C,TEXT,BALANCE ...]

For each fitting setting (``--fit``: regularisation C, weight of a section-text sentence, class balance):
- k-fold cross-validation grouped by labelled set (each set was written by its own author, so a fold's sets
  are as new to the engine as a stranger's messages): every message is scored by models fitted without
  its set;
- leave-one-section-out: each section in turn keeps its title, text and first 10 curated examples and loses
  every other example and labelled message; its questions are scored by models fitted that way.
The models are fitted once per fold; the decision constants (classifier and reader weights, "not in the
policy" closeness, min_confidence) are then searched on what the models said. The objective is the mean,
over languages, of: top-1, intent accuracy, abstention on greetings and off-topic, recognition of questions
the policy does not answer (all from the k folds), and top-1 of the left-out sections. It prints the best
settings and the figures of the ones in bot/policy/engine.py; no message text.
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import replace

from engine_data import (
    KEPT_EXAMPLES,
    POLICY,
    Labelled,
    Scores,
    Seen,
    evidence_for,
    fitted_engine,
    labelled,
    score,
    training_data,
    tuning_sets,
)

from bot.config import REPO_ROOT, load_config
from bot.policy.engine import Settings
from bot.policy.loader import LANGUAGES, load_policy

CLASSIFIER_WEIGHTS = (0.1, 0.2, 0.3, 0.5, 1.0)
READER_WEIGHTS = (0.0, 2.0, 5.0, 10.0, 20.0)
UNANSWERED_SIMILARITIES = (0.1, 0.2, 0.3, 0.4, 0.5)
MIN_CONFIDENCES = (0.1, 0.15, 0.2, 0.3)


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
    loso_messages: list[Labelled] = []
    loso_seen: list[Seen] = []
    for section in policy.sections["en"]:
        engine = fitted_engine(policy, training_data(policy, messages, left_out=section.id,
                                                     kept_examples=KEPT_EXAMPLES), settings)
        test = [m for m in messages if m.section == section.id]
        loso_messages += test
        loso_seen += evidence_for(engine, test)
        print(f"  left out {section.id}", flush=True)
    return cv_messages, cv_seen, loso_messages, loso_seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fit", nargs="*", default=None, help="fitting settings C,TEXT,BALANCE (default: the engine's)")
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
        cv_m, cv_s, lo_m, lo_s = collect(fit, messages, args.folds)
        results: list[tuple[float, Settings, float, dict[str, tuple[Scores, Scores]]]] = []
        for cw, rw, us, mc in itertools.product(CLASSIFIER_WEIGHTS, READER_WEIGHTS, UNANSWERED_SIMILARITIES,
                                                MIN_CONFIDENCES):
            settings = replace(fit, classifier_weight=cw, reader_weight=rw, unanswered_similarity=us)
            per_lang = {}
            objective = 0.0
            for lang in LANGUAGES:
                cv = score(cv_m, cv_s, settings, mc, lambda m, lang=lang: m.lang == lang)
                lo = score(lo_m, lo_s, settings, mc, lambda m, lang=lang: m.lang == lang)
                per_lang[lang] = (cv, lo)
                objective += (cv.top1 + cv.intent + cv.abstain + cv.unanswered + lo.top1) / 5 / len(LANGUAGES)
            results.append((objective, settings, mc, per_lang))
        results.sort(key=lambda r: -r[0])
        current = next(r for r in results if r[1].classifier_weight == base.classifier_weight
                       and r[1].reader_weight == base.reader_weight
                       and r[1].unanswered_similarity == base.unanswered_similarity
                       and r[2] == config.policy.min_confidence) if any(
            r[1].classifier_weight == base.classifier_weight and r[1].reader_weight == base.reader_weight
            and r[1].unanswered_similarity == base.unanswered_similarity and r[2] == config.policy.min_confidence
            for r in results) else None
        print(f"fitted in {time.perf_counter() - started:.0f} s; {len(results)} decision settings searched")
        for label, row in [*(("best", r) for r in results[:5]), *((("current", current),) if current else ())]:
            objective, settings, mc, per_lang = row
            print(f"{label}: objective {objective:.4f}  classifier {settings.classifier_weight}  reader "
                  f"{settings.reader_weight}  not-in-policy closeness {settings.unanswered_similarity}  "
                  f"min_confidence {mc}")
            for lang, (cv, lo) in per_lang.items():
                print(f"    {lang} cross-validated: {cv.line()}")
                print(f"    {lang} left-one-section-out: top-1 {lo.top1:.3f} (of {lo.questions})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
