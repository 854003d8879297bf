"""How many hand-written rules the engine reads, at a git revision or in the working tree.

    .venv/bin/python bench/engine_rules.py [REV ...]      # e.g. bbfea2f HEAD (default: the working tree)

Counted: every entry of the curated files that is not an example (cue phrases, specific cues, required and
cancelling words, the pleasantries lexicon, synonym-group members, stopwords, lemma overrides), and in the
engine's own code every word or phrase of a module-level word list and every regular expression. Domain
knowledge (synonyms, stopwords, overrides) is reported apart from cues and code rules.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("bot/policy/engine.py", "bot/policy/classifier.py", "bot/policy/learnt.py")
LANGUAGES = ("en", "ru")


def read(rev: str | None, path: str) -> str | None:
    if rev is None:
        file = ROOT / path
        return file.read_text(encoding="utf-8") if file.exists() else None
    done = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def count(rev: str | None) -> Counter[str]:
    counts: Counter[str] = Counter()
    for lang in LANGUAGES:
        for name in ("intents", "sections"):
            text = read(rev, f"policy_text/examples/{lang}/{name}.toml")
            for table in tomllib.loads(text or "").values():
                for key, value in table.items():
                    if key != "examples" and isinstance(value, list):
                        counts["cues and word lists (curated files)"] += len(value)
        lexicon = tomllib.loads(read(rev, f"policy_text/examples/{lang}/lexicon.toml") or "")
        counts["synonym-group members (domain knowledge)"] += sum(len(g) for g in lexicon.get("synonyms", []))
        counts["stopwords (domain knowledge)"] += len(lexicon.get("stopwords", []))
        counts["lemma overrides (domain knowledge)"] += len(lexicon.get("overrides", {}))
    for path in CODE:
        source = read(rev, path)
        if source is None:
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.List | ast.Set):
                strings = [e for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                if len(strings) == len(node.value.elts) and len(strings) > 1:
                    counts["word lists in engine code"] += len(strings)
        counts["regular expressions in engine code"] += source.count("re.compile(")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("revs", nargs="*", help="git revisions (default: the working tree)")
    args = parser.parse_args()
    for rev in args.revs or [None]:
        counts = count(rev)
        rules = sum(v for k, v in counts.items() if "domain knowledge" not in k)
        knowledge = sum(v for k, v in counts.items() if "domain knowledge" in k)
        print(f"== {rev or 'working tree'}: {rules} hand-written rules, {knowledge} entries of domain knowledge")
        for key, value in sorted(counts.items()):
            print(f"   {key:<45} {value:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
