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
        self._label_names: list[str] = []
        self._label_ids: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self._weights: Dots = np.zeros(0)
        # Postings: for feature i, entries bounds[i]:bounds[i + 1] of the two flat arrays (example, weight).
        self._feature_ids: dict[str, int] = {}
        self._bounds: npt.NDArray[np.intp] = np.zeros(1, dtype=np.intp)
        self._entry_examples: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self._entry_values: Dots = np.zeros(0)
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
        self._label_names = sorted(set(self._labels))
        number_of = {name: number for number, name in enumerate(self._label_names)}
        self._label_ids = np.array([number_of[label] for label in self._labels], dtype=np.intp)
        order = np.argsort(np.array(entry_features, dtype=np.intp), kind="stable")
        self._entry_examples = np.array(entry_examples, dtype=np.intp)[order]
        self._entry_values = np.array(entry_values, dtype=np.float64)[order]
        self._bounds = np.searchsorted(np.array(entry_features, dtype=np.intp)[order],
                                       np.arange(len(feature_ids) + 1)).astype(np.intp)
        self._feature_ids = feature_ids
        self._pending = []

    def vector(self, tokens: Sequence[str]) -> dict[str, float]:
        """TF-IDF weights of a text's known features (not normalised: vectors of sentences add up)."""
        idf = self._idf
        return {key: value * idf[key] for key, value in features(tokens).items() if key in idf}

    def dots(self, vector: dict[str, float]) -> Dots:
        """Dot products of a (not normalised) query vector with every example (0 when none is shared).
        Vectors of sentences add up, and so do their dots."""
        feature_ids = self._feature_ids
        common = self._common
        chosen = [(feature_ids[key], value) for key, value in vector.items() if key not in common]
        if not chosen:
            return np.zeros(len(self._labels), dtype=np.float64)
        ids = np.array([fid for fid, _ in chosen], dtype=np.intp)
        starts = self._bounds[ids]
        lengths = self._bounds[ids + 1] - starts
        # The entries of all chosen features in one index array (concatenated ranges), then one bincount:
        # a few numpy calls per sentence instead of two per feature.
        ends = np.cumsum(lengths)
        entries = np.arange(int(ends[-1]), dtype=np.intp) + np.repeat(starts - ends + lengths, lengths)
        weights = self._entry_values[entries] * np.repeat(np.array([v for _, v in chosen]), lengths)
        dots: Dots = np.bincount(self._entry_examples[entries], weights=weights,
                                 minlength=len(self._labels)).astype(np.float64, copy=False)
        return dots

    def label_similarities(self, dots: Dots, vector: dict[str, float]) -> dict[str, float]:
        """label -> blended cosine similarity of its closest examples (0..1)."""
        norm = math.sqrt(sum(v * v for v in vector.values()))
        if not norm or not dots.size:
            return {}
        top_dot = float(dots.max())
        if top_dot <= 0.0:
            return {}
        # Examples far below the closest one cannot decide anything; skipping them saves most of the work.
        near = np.flatnonzero(dots >= top_dot * PRUNE_BELOW)
        sims = dots[near] / norm * self._weights[near]
        # Each label's three best similarities: sort by label, then by similarity (highest first).
        labels = self._label_ids[near]
        order = np.lexsort((-sims, labels))
        labels, sims = labels[order], sims[order]
        starts = np.flatnonzero(np.concatenate(([True], labels[1:] != labels[:-1])))
        sizes = np.diff(np.append(starts, len(labels)))
        last = len(labels) - 1
        second = np.where(sizes > 1, sims[np.minimum(starts + 1, last)], 0.0)
        third = np.where(sizes > 2, sims[np.minimum(starts + 2, last)], 0.0)
        w1, w2, w3 = TOP_WEIGHTS
        blended = w1 * sims[starts] + w2 * second + w3 * third
        names = self._label_names
        return {names[label]: value for label, value in zip(labels[starts].tolist(), blended.tolist(), strict=True)}

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
