"""How reading a letter's opening on its own changes answers on the labelled messages.

    .venv/bin/python bench/letter_opening.py [--long-chars N]

``bot/policy/letters.py`` reads the opening of a long letter on its own, so a request stated first is not
overturned by material pasted below it. This counts, over every labelled set, the messages whose answer
(intent, top section) changes when the opening is read for letters of at least ``--long-chars``
characters (0: every letter), and how many of those change from right to wrong and from wrong to right.
The baseline is ``engine.understand`` on the whole text, in the same run. No message text is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.policy import letters  # noqa: E402
from bot.policy.engine import PolicyEngine  # noqa: E402
from bot.policy.models import Understanding  # noqa: E402


def right(message: dict[str, object], understanding: Understanding) -> bool:
    if message["intent"] != "question":
        return str(understanding.intent) == message["intent"]
    allowed = {message.get("section"), *list(message.get("also") or [])}  # type: ignore[misc]
    return understanding.intent == "question" and bool(understanding.sections) \
        and understanding.sections[0].id in allowed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--long-chars", type=int, default=letters.LONG_LETTER_CHARS)
    args = parser.parse_args()
    letters.LONG_LETTER_CHARS = args.long_chars
    config = load_config()
    engine = PolicyEngine.load(config.policy_directory, config.policy.url, config.policy.min_confidence,
                               config.policy.default_language)
    total = changed = better = worse = 0
    for path in sorted((ROOT / "tests" / "data" / "messages").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            message = json.loads(line)
            lang = message.get("lang")
            whole = engine.understand(message["text"], lang=lang)
            letter = letters.understand_letter(engine, message["text"], "", lang=lang)
            total += 1
            if (whole.intent, whole.sections[:1]) == (letter.intent, letter.sections[:1]):
                continue
            changed += 1
            better += right(message, letter) and not right(message, whole)
            worse += right(message, whole) and not right(message, letter)
    print(f"letters of >= {args.long_chars} characters read by their opening: {changed} of {total} answers "
          f"changed; {better} wrong -> right, {worse} right -> wrong")
    return 0


if __name__ == "__main__":
    sys.exit(main())
