"""Does the quote hold the sentences that answer the question? On a set of questions with their answering
policy sentences marked by someone who never saw the engine.

    .venv/bin/python bench/quotes.py [--set quotes-dev] [--whole-chars N ...] [--mark-share X]

For each question it checks that every marked sentence is in the quote, (a) of the labelled section (how
well the quote is chosen) and (b) of the engine's answer (what a person gets: a wrong section or an
abstention misses). The baseline, from the same run, is the old way: the first paragraph of the section,
or the whole section when it is short (700 characters). Also the mean quote length. ``quotes-dev`` is the
tuning set; ``quotes`` is held out and run once at the end. No message text is printed.
"""

from __future__ import annotations

import argparse
import statistics

from engine_data import MESSAGES, POLICY, read_set

from bot.policy import answer
from bot.policy.engine import PolicyEngine

OLD_WHOLE_CHARS = 700


def normal(text: str) -> str:
    return " ".join(text.replace(answer.MARK, "").split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="quotes-dev")
    parser.add_argument("--whole-chars", type=int, nargs="*", default=[answer.WHOLE_SECTION_CHARS])
    parser.add_argument("--mark-share", type=float, default=answer.MARK_SHARE)
    args = parser.parse_args()
    rows = read_set(MESSAGES / f"{args.set}.jsonl")
    engine = PolicyEngine.load(POLICY)
    answer.MARK_SHARE = args.mark_share
    for whole in args.whole_chars:
        answer.WHOLE_SECTION_CHARS = whole
        for lang in ("en", "ru"):
            mine = [r for r in rows if r["lang"] == lang]
            given = served = baseline = 0
            lengths: list[int] = []
            for row in mine:
                wanted = [normal(s) for s in row["answer"]]
                quoted = engine.answer_from(lang, row["section"], row["text"])
                assert quoted is not None
                lengths.append(len(quoted.quote))
                given += all(w in normal(quoted.quote) for w in wanted)
                result = engine.understand(row["text"], lang=lang)
                served += result.answer is not None and all(w in normal(result.answer.quote) for w in wanted)
                section = engine.section(lang, row["section"])
                assert section is not None
                old = section.text if len(section.text) <= OLD_WHOLE_CHARS else section.paragraphs[0]
                baseline += all(w in normal(old) for w in wanted)
            n = len(mine)
            print(f"{args.set} {lang} whole<= {whole}: in the quote of the labelled section {given / n:.3f}, "
                  f"in the answer served {served / n:.3f}, baseline (first paragraph) {baseline / n:.3f}; "
                  f"mean quote {statistics.mean(lengths):.0f} chars ({n} questions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
