"""Accuracy and speed of the answer engine on messages it never learnt from, against plain BM25.

    .venv/bin/python bench/engine_accuracy.py [--sets holdout9] [--skip-left-out] [--skip-update]

1. Held-out sets (``holdout9``; earlier ``holdout7``, ``holdout8``: written for issue 11 by authors who
   never saw the engine, never tuned on): per language, top-1 on questions with a section (a hit is the labelled section or one
   of its "also"), intent accuracy, abstention on greetings and off-topic (not answered with a section),
   recognition of questions the policy does not answer (not answered with a section), p50 / p99 ms per
   message. Baseline: BM25 over each section's title and text, which always answers its best section.
2. Leave one section out (``--skip-left-out`` skips it; it fits the models 26 times): each section in turn
   keeps its title, text and first 10 curated examples (then none), losing every other example and every
   labelled message about it; top-1 on that section's questions of the held-out sets. Baseline: BM25 over
   titles, texts and the kept examples.
3. A simulated policy update (``tests/data/policy_update``): four new sections written by one author with
   10 example questions each, questions by two others who saw neither the engine nor the examples. Top-1
   on the new sections' questions and on the old sections' ones, against BM25 over texts and examples.

Engine load time is printed for a cold start (fitting) and a warm one (fitted models from the cache). No
message text is printed.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from engine_data import (
    KEPT_EXAMPLES,
    MESSAGES,
    POLICY,
    ROOT,
    Labelled,
    evidence_for,
    fitted_engine,
    in_language,
    labelled,
    read_set,
    score,
    training_data,
    tuning_sets,
)

from bot.config import load_config
from bot.policy.curated import load_curated
from bot.policy.engine import PolicyEngine, Settings
from bot.policy.loader import LANGUAGES, load_policy
from bot.policy.models import Policy
from bot.policy.morphology import Morphology, tokenize

UPDATE = ROOT / "tests" / "data" / "policy_update"


class BM25:
    """Plain BM25 (k1=1.5, b=0.75): one document per section, dictionary lemmas, nothing curated."""

    def __init__(self, documents: dict[str, dict[str, str]]) -> None:
        self._morph = Morphology.shared()
        self._docs: dict[str, list[tuple[str, Counter[str], int]]] = {}
        self._idf: dict[str, dict[str, float]] = {}
        self._avg: dict[str, float] = {}
        for lang, texts in documents.items():
            docs = [(section_id, Counter(terms), len(terms))
                    for section_id, terms in ((s, self._terms(t)) for s, t in texts.items())]
            frequency: Counter[str] = Counter()
            for _, counts, _ in docs:
                frequency.update(counts.keys())
            n = len(docs)
            self._idf[lang] = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}
            self._avg[lang] = sum(length for _, _, length in docs) / n
            self._docs[lang] = docs

    def _terms(self, text: str) -> list[str]:
        return [lemma for lemma in (self._morph.lemma(w) for w in tokenize(text)) if lemma]

    def best(self, text: str, lang: str) -> str:
        query = self._terms(text)
        idf, avg = self._idf[lang], self._avg[lang]
        scored = []
        for section_id, counts, length in self._docs[lang]:
            total = 0.0
            for term in query:
                tf = counts.get(term, 0)
                if tf:
                    total += idf[term] * tf * 2.5 / (tf + 1.5 * (0.25 + 0.75 * length / avg))
            scored.append((-total, section_id))
        return min(scored)[1]


def section_documents(policy: Policy, examples: Callable[[str, str], list[str]]) -> dict[str, dict[str, str]]:
    return {lang: {s.id: "\n".join([s.title, s.text, *examples(lang, s.id)]) for s in policy.sections[lang]}
            for lang in LANGUAGES}


def bm25_top1(bm25: BM25, messages: list[Labelled]) -> float:
    questions = [m for m in messages if m.section]
    return sum(bm25.best(m.text, m.lang) in m.accepted for m in questions) / len(questions) if questions else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else 0.0


def held_out(engine: PolicyEngine, policy: Policy, names: list[str], min_confidence: float) -> None:
    bm25 = BM25(section_documents(policy, lambda lang, section: []))
    for name in names:
        messages = labelled([MESSAGES / f"{name}.jsonl"])
        timings: dict[str, list[float]] = {lang: [] for lang in LANGUAGES}
        for message in messages:
            started = time.perf_counter()
            engine.understand(message.text)
            timings[message.lang].append((time.perf_counter() - started) * 1000.0)
        seen = evidence_for(engine, messages)
        print(f"\n== {name} ({len(messages)} messages, never tuned on)")
        for lang in LANGUAGES:
            mine = [m for m in messages if m.lang == lang]
            if not mine:
                continue
            result = score(messages, seen, engine.settings, min_confidence, in_language(lang))
            print(f"{lang}: {result.line()}")
            print(f"    BM25 top-1 {bm25_top1(bm25, mine):.3f} (always answers: intent {sum(m.intent == 'question' for m in mine) / len(mine):.3f},"
                  f" abstain 0, not-in-policy 0);  ms per message p50 {statistics.median(timings[lang]):.2f}"
                  f" p99 {percentile(timings[lang], 0.99):.2f}")


def left_out(names: list[str], settings: Settings, min_confidence: float) -> None:
    policy = load_policy(POLICY)
    training = labelled(tuning_sets())
    tests = labelled([MESSAGES / f"{name}.jsonl" for name in names])
    curated = {lang: load_curated(POLICY, lang, [s.id for s in policy.sections[lang]]) for lang in LANGUAGES}
    print(f"\n== leave one section out, its questions in {', '.join(names)}")
    for kept in (KEPT_EXAMPLES, 0):
        hits: Counter[str] = Counter()
        base: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for section in policy.sections["en"]:
            mine = [m for m in tests if m.section == section.id]
            if not mine:
                continue
            engine = fitted_engine(policy, training_data(policy, training, left_out=section.id, kept_examples=kept),
                                   settings)
            seen = evidence_for(engine, mine)
            for lang in LANGUAGES:
                keep = (in_language(lang))
                n = sum(keep(m) for m in mine)
                hits[lang] += round(score(mine, seen, settings, min_confidence, keep).top1 * n)
                total[lang] += n

            def examples(lang: str, section_id: str, left: str = section.id, kept: int = kept) -> list[str]:
                data = curated[lang].sections.get(section_id)
                found = data.examples if data else []
                return found[:kept] if section_id == left else found

            bm25 = BM25(section_documents(policy, examples))
            for lang in LANGUAGES:
                base[lang] += round(bm25_top1(bm25, [m for m in mine if m.lang == lang])
                                    * sum(m.lang == lang for m in mine))
        for lang in LANGUAGES:
            print(f"{lang}, {kept} examples kept: top-1 {hits[lang] / total[lang]:.3f}  (BM25 over titles, texts "
                  f"and examples: {base[lang] / total[lang]:.3f}; {total[lang]} questions)")


def policy_update(settings: Settings, min_confidence: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "policy_text"
        shutil.copytree(POLICY, target)
        owner: dict[tuple[str, str], list[str]] = {}
        for row in read_set(UPDATE / "examples.jsonl"):
            owner.setdefault((row["lang"], row["section"]), []).append(row["text"])
        for lang in LANGUAGES:
            for path in sorted((UPDATE / lang).glob("*.txt")):
                shutil.copy(path, target / lang / path.name)
            with (target / "examples" / lang / "sections.toml").open("a", encoding="utf-8") as stream:
                for (example_lang, section_id), texts in owner.items():
                    if example_lang == lang:
                        stream.write(f"\n[{section_id}]\nexamples = {json.dumps(texts, ensure_ascii=False)}\n")
        engine = PolicyEngine.load(target, min_confidence=min_confidence, settings=settings)
        policy = engine.policy
        curated = {lang: load_curated(target, lang, [s.id for s in policy.sections[lang]]) for lang in LANGUAGES}
        questions = labelled(sorted(UPDATE.glob("questions-*.jsonl")))
        new = {row["section"] for row in read_set(UPDATE / "examples.jsonl")}
        seen = evidence_for(engine, questions)
        bm25 = BM25(section_documents(policy, lambda lang, s: (curated[lang].sections[s].examples
                                                              if s in curated[lang].sections else [])))
        print("\n== simulated policy update: four new sections, owner's examples, others' questions")
        for lang in LANGUAGES:
            for kind, keep in (("new sections", lambda m: m.section in new), ("old sections", lambda m: m.section not in new)):
                mine = [m for m in questions if m.lang == lang and keep(m)]
                result = score(questions, seen, settings, min_confidence,
                               in_language(lang, keep))
                print(f"{lang} {kind}: top-1 {result.top1:.3f} (BM25 over texts and examples {bm25_top1(bm25, mine):.3f};"
                      f" {len(mine)} questions)")


def load_seconds(cache: str) -> float:
    """PolicyEngine.load in a new process (imports done first), as the bot starts."""
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); from bot.policy.engine import PolicyEngine; "
            "t = time.perf_counter(); PolicyEngine.load(sys.argv[2], cache_dir=sys.argv[3]); "
            "print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code, str(ROOT), str(POLICY), cache], capture_output=True,
                          text=True, check=True)
    return float(done.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    config = load_config(ROOT / "config.toml", environ={})
    parser.add_argument("--sets", default="holdout9")
    parser.add_argument("--min-confidence", type=float, default=config.policy.min_confidence)
    parser.add_argument("--skip-left-out", action="store_true")
    parser.add_argument("--skip-update", action="store_true")
    args = parser.parse_args()
    names = [name for name in args.sets.split(",") if name]  # --sets "": none (e.g. only the update)
    with tempfile.TemporaryDirectory() as cache:
        cold, warm = (load_seconds(cache) for _ in range(2))
        engine = PolicyEngine.load(POLICY, min_confidence=args.min_confidence, cache_dir=cache)
    print(f"engine load in a fresh process: {cold:.2f} s fitting, {warm:.2f} s from fitted models; min_confidence "
          f"{args.min_confidence}; policy version {engine.policy_version}")
    held_out(engine, engine.policy, names, args.min_confidence)
    if not args.skip_left_out:
        left_out(names, engine.settings, args.min_confidence)
    if not args.skip_update:
        policy_update(engine.settings, args.min_confidence)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
