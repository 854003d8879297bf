"""Word-level pieces the engine's speed depends on: the banded edit distance, typo repair of words
never seen before, and the compiled dictionary and stemmer readers."""

from __future__ import annotations

import random

import pymorphy3.dawg
import snowballstemmer

from bot.policy.morphology import Morphology, Normaliser, edit_distance


def _full_table_distance(a: str, b: str) -> int:
    """Optimal string alignment distance over the whole table: the reference the banded one must equal."""
    rows = [[i + j if i == 0 or j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def test_banded_distance_equals_the_full_table_up_to_the_limit() -> None:
    generator = random.Random(7)
    for _ in range(20_000):
        a = "".join(generator.choice("абвг") for _ in range(generator.randint(0, 8)))
        b = "".join(generator.choice("абвг") for _ in range(generator.randint(0, 8)))
        limit = generator.randint(0, 3)
        assert min(edit_distance(a, b, limit), limit + 1) == min(_full_table_distance(a, b), limit + 1), (a, b, limit)
    assert edit_distance("конфеденциальности", "конфиденциальность", 2) == 2
    assert edit_distance("ab", "ba", 1) == 1  # a swap of neighbours is one edit


def test_long_typos_are_repaired_to_the_word_taught() -> None:
    normaliser = Normaliser(Morphology.shared(), {}, [], [])
    typos = {"конфеденциальности": "конфиденциальность", "конфиденцальность": "конфиденциальность",
              "персоналных": "персональный", "пожалуста": "пожалуйста", "удолите": "удалить"}
    taught_forms = {"конфиденциальность", "персональных", "пожалуйста", "удалите"}
    for word in taught_forms:
        normaliser.learn(word)
    for typo, lemma in typos.items():
        assert normaliser.tokens(typo) == [lemma], typo
    # Three edits away is not a typo of it.
    assert normaliser.tokens("конфетциальносте") != ["конфиденциальность"]


def test_compiled_readers_are_in_use() -> None:
    # pymorphy3 and snowballstemmer fall back to pure Python when dawg2 / PyStemmer are missing; the
    # answers stay the same but a new long letter costs about twice as much (see pyproject.toml).
    assert pymorphy3.dawg.DAWG.__module__ == "dawg"
    assert type(snowballstemmer.stemmer("english")).__module__ == "Stemmer"
