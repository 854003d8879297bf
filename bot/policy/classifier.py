"""Nearest curated examples: TF-IDF over canonical tokens (and adjacent pairs), cosine similarity.

A label's score is a blend of its best and second-best example similarities, so one lucky example
does not decide alone. Cue phrases (all tokens present) add an explainable bonus.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# One similarity per example, dense: a sentence shares features with thousands of examples, and numpy
# adds a feature's postings in one step where a Python loop took milliseconds per message.
Dots = npt.NDArray[np.float64]

BIGRAM_WEIGHT = 0.6
COMMON_SHARE = 0.25
PRUNE_BELOW = 0.4
# One-word examples ("human", "operator") used to pull any message sharing the word; five-word
# examples count fully.
SHORT_EXAMPLE_BASE = 0.75
SHORT_EXAMPLE_STEP = 0.05
# A label's score: its three closest examples, weighted.
TOP_WEIGHTS = (0.7, 0.3, 0.0)


def features(tokens: Sequence[str]) -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for token in tokens:
        counts[token] += 1.0
    for first, second in itertools.pairwise(tokens):
        counts[f"{first} {second}"] += BIGRAM_WEIGHT
    return {key: 1.0 + math.log(value) if value >= 1.0 else value for key, value in counts.items()}


@dataclass(frozen=True)
class Cue:
    label: str
    tokens: frozenset[str]
    weight: float


class ExampleIndex:
    def __init__(self) -> None:
        self._pending: list[tuple[str, dict[str, float], float]] = []
        self._labels: list[str] = []
        self._weights: Dots = np.zeros(0)
        self._postings: dict[str, tuple[npt.NDArray[np.intp], Dots]] = {}
        self._idf: dict[str, float] = {}
        self._cues: list[Cue] = []
        self._cues_by_token: dict[str, list[Cue]] = defaultdict(list)
        self._blockers: dict[str, frozenset[str]] = {}
        self._requirements: dict[str, frozenset[str]] = {}
        self._common: frozenset[str] = frozenset()

    def add(self, label: str, tokens: Sequence[str], weight: float = 1.0) -> None:
        if tokens:
            # One- and two-word examples ("cookies?") match any message sharing that word perfectly;
            # they count a little less than full questions.
            brevity = min(1.0, SHORT_EXAMPLE_BASE + SHORT_EXAMPLE_STEP * len(tokens))
            self._pending.append((label, features(tokens), weight * brevity))

    def add_cue(self, label: str, tokens: Sequence[str], weight: float) -> None:
        if tokens:
            cue = Cue(label, frozenset(tokens), weight)
            self._cues.append(cue)
            self._cues_by_token[min(cue.tokens)].append(cue)

    def add_blockers(self, label: str, tokens: Sequence[str]) -> None:
        """Words whose presence cancels the label's cue bonus ("delete cookies" is not a deletion request)."""
        self._blockers[label] = self._blockers.get(label, frozenset()) | frozenset(tokens)

    def add_requirements(self, label: str, tokens: Sequence[str]) -> None:
        """Words a message must contain one of for the label to score fully (see ``unmet``)."""
        if tokens:
            self._requirements[label] = self._requirements.get(label, frozenset()) | frozenset(tokens)

    def unmet(self, tokens: Sequence[str]) -> set[str]:
        """Labels whose required words are all absent from the tokens."""
        present = set(tokens)
        return {label for label, required in self._requirements.items() if not required & present}

    @property
    def labels(self) -> set[str]:
        return set(self._labels)

    def build(self) -> None:
        documents = len(self._pending)
        frequency: dict[str, int] = defaultdict(int)
        for _, feats, _ in self._pending:
            for key in feats:
                frequency[key] += 1
        self._idf = {key: math.log(1.0 + documents / count) for key, count in frequency.items()}
        # Features in a large share of examples ("you", "my", "data") say little and cost the most:
        # they still count in a vector's length, but their dot products are skipped.
        self._common = frozenset(key for key, count in frequency.items() if count > COMMON_SHARE * documents)
        # Postings as slices of two flat arrays sorted by feature: one sort instead of an array per feature.
        feature_ids: dict[str, int] = {}
        entry_features: list[int] = []
        entry_examples: list[int] = []
        entry_values: list[float] = []
        weights: list[float] = []
        for number, (label, feats, weight) in enumerate(self._pending):
            vector = {key: value * self._idf[key] for key, value in feats.items()}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            for key, value in vector.items():
                entry_features.append(feature_ids.setdefault(key, len(feature_ids)))
                entry_examples.append(number)
                entry_values.append(value / norm)
            self._labels.append(label)
            weights.append(weight)
        self._weights = np.array(weights, dtype=np.float64)
        order = np.argsort(np.array(entry_features, dtype=np.intp), kind="stable")
        examples = np.array(entry_examples, dtype=np.intp)[order]
        values = np.array(entry_values, dtype=np.float64)[order]
        # Feature i's entries are bounds[i]:bounds[i + 1] of the sorted arrays; its postings are views.
        bounds = np.searchsorted(np.array(entry_features, dtype=np.intp)[order], np.arange(len(feature_ids) + 1))
        self._postings = {key: (examples[bounds[i]:bounds[i + 1]], values[bounds[i]:bounds[i + 1]])
                          for key, i in feature_ids.items()}
        self._pending = []

    def vector(self, tokens: Sequence[str]) -> dict[str, float]:
        """TF-IDF weights of a text's known features (not normalised: vectors of sentences add up)."""
        idf = self._idf
        return {key: value * idf[key] for key, value in features(tokens).items() if key in idf}

    def dots(self, vector: dict[str, float]) -> Dots:
        """Dot products of a (not normalised) query vector with every example (0 when none is shared).
        Vectors of sentences add up, and so do their dots."""
        dots = np.zeros(len(self._labels), dtype=np.float64)
        postings = self._postings
        common = self._common
        for key, value in vector.items():
            if key in common:
                continue
            numbers, weights = postings[key]
            dots[numbers] += value * weights  # a feature lists each example once
        return dots

    def label_similarities(self, dots: Dots, vector: dict[str, float]) -> dict[str, float]:
        """label -> blended cosine similarity of its closest examples (0..1)."""
        norm = math.sqrt(sum(v * v for v in vector.values()))
        if not norm or not dots.size:
            return {}
        top_dot = float(dots.max())
        if top_dot <= 0.0:
            return {}
        labels = self._labels
        best: dict[str, list[float]] = {}
        # Examples far below the closest one cannot decide anything; skipping them saves most of the work.
        near = np.flatnonzero(dots >= top_dot * PRUNE_BELOW)
        sims = dots[near] / norm * self._weights[near]
        for number, sim in zip(near.tolist(), sims.tolist(), strict=True):
            label = labels[number]
            top = best.get(label)
            if top is None:
                best[label] = [sim, 0.0, 0.0]
            elif sim > top[2]:
                if sim > top[0]:
                    top[0], top[1], top[2] = sim, top[0], top[1]
                elif sim > top[1]:
                    top[1], top[2] = sim, top[1]
                else:
                    top[2] = sim
        w1, w2, w3 = TOP_WEIGHTS
        return {label: w1 * a + w2 * b + w3 * c for label, (a, b, c) in best.items()}

    def similarities(self, tokens: Sequence[str]) -> dict[str, float]:
        vector = self.vector(tokens)
        return self.label_similarities(self.dots(vector), vector)

    def cue_bonus(self, tokens: Sequence[str]) -> dict[str, float]:
        present = set(tokens)
        bonus: dict[str, float] = defaultdict(float)
        for token in present:
            for cue in self._cues_by_token.get(token, ()):
                if cue.tokens <= present:
                    bonus[cue.label] = max(bonus[cue.label], cue.weight)
        return {label: value for label, value in bonus.items()
                if not (label in self._blockers and self._blockers[label] & present)}
