"""An answer depends on the message alone, never on the messages the engine processed before it.

Each order runs in its own `privacy-bot ask --jsonl` process, so no cache is shared between them.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bot.config import REPO_ROOT

MESSAGES = REPO_ROOT / "tests" / "data" / "messages"


def _ask(rows: list[dict[str, str]]) -> dict[str, tuple[str, str, list[str]]]:
    stdin = "".join(json.dumps({"id": row["id"], "text": row["text"]}, ensure_ascii=False) + "\n" for row in rows)
    done = subprocess.run([sys.executable, "-m", "bot", "ask", "--jsonl"], input=stdin, capture_output=True,
                          text=True, timeout=120, check=True)
    results = [json.loads(line) for line in done.stdout.splitlines()]
    return {r["id"]: (r["lang"], r["intent"], [s["id"] for s in r["sections"]]) for r in results}


def test_results_do_not_depend_on_earlier_messages() -> None:
    rows = [json.loads(line) for name in ("dev.jsonl", "dev2.jsonl")
            for line in (MESSAGES / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    forwards, backwards = _ask(rows), _ask(rows[::-1])
    assert len(forwards) == len(rows)
    differing = [row["text"][:60] for row in rows if forwards[row["id"]] != backwards[row["id"]]]
    assert not differing, f"{len(differing)} answers depend on message order, e.g. {differing[:3]}"


def test_results_do_not_depend_on_the_shared_analysers_caches() -> None:
    # Anything else in the process (a benchmark's baseline, another engine) may warm the shared
    # morphology caches; the engine's answers must not move when it does.
    from bot.policy.engine import PolicyEngine
    from bot.policy.morphology import Morphology, tokenize

    engine = PolicyEngine.load(REPO_ROOT / "policy_text", "https://jetbit.ru/policy/", 0.2)
    rows = [json.loads(line) for line in (MESSAGES / "dev2.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [row["text"] for row in rows if row["lang"] == "ru"]
    before = [engine.understand(text) for text in texts]
    morphology = Morphology.shared()
    for text in texts:
        for word in tokenize(text):
            morphology.lemma(word)
    after = [engine.understand(text) for text in texts]
    differing = [text[:60] for text, a, b in zip(texts, before, after, strict=True)
                 if (a.intent, [s.id for s in a.sections]) != (b.intent, [s.id for s in b.sections])]
    assert not differing, f"{len(differing)} answers changed with the caches, e.g. {differing[:3]}"
