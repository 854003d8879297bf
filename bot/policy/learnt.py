"""The two models the engine decides with, both fitted at load from the policy folder.

- ``SoftmaxClassifier``: multinomial logistic regression over TF-IDF word and word-pair features, fitted to
  every labelled message (sections, "not in the policy", requests, greetings, off-topic), the curated
  examples and the section texts. Strong wherever there is data.
- ``PolicyReader``: how close a message is to each section's own words (title, text sentences) and its
  curated examples: the two closest items of each section, blended. Every section has the same kinds of
  items, so a new section with a title, a text and a few examples competes on equal terms with old ones
  that have thousands of learnt messages.

Features are computed from the engine's canonical tokens (lemmas, synonym groups), never from raw text.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

# A pair of adjacent tokens is a feature of its own, counting this much of a word.
PAIR_WEIGHT = 0.6


def features(tokens: Sequence[str]) -> dict[str, float]:
    """Sublinear term frequencies of the words and adjacent pairs."""
    counts: dict[str, float] = defaultdict(float)
    for token in tokens:
        counts[token] += 1.0
    for first, second in itertools.pairwise(tokens):
        counts[f"{first} {second}"] += PAIR_WEIGHT
    return {key: 1.0 + math.log(value) if value >= 1.0 else value for key, value in counts.items()}


class Vectoriser:
    """TF-IDF with the document frequencies of the training texts; vectors are L2-normalised."""

    def __init__(self, documents: Sequence[Sequence[str]], min_documents: int = 1) -> None:
        """``min_documents``: a feature seen in fewer training texts is ignored."""
        frequency: dict[str, int] = defaultdict(int)
        for tokens in documents:
            for key in features(tokens):
                frequency[key] += 1
        kept = sorted(key for key, count in frequency.items() if count >= min_documents)
        self.columns = {key: number for number, key in enumerate(kept)}
        total = len(documents)
        self.idf = np.array([math.log((1.0 + total) / (1.0 + frequency[key])) + 1.0 for key in kept])

    @property
    def width(self) -> int:
        return len(self.columns)

    def vector(self, tokens: Sequence[str]) -> tuple[npt.NDArray[np.intp], Floats]:
        """(columns, values) of one text's known features, normalised."""
        found = [(self.columns[key], value) for key, value in features(tokens).items() if key in self.columns]
        if not found:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        columns = np.array([c for c, _ in found], dtype=np.intp)
        values = np.array([v for _, v in found]) * self.idf[columns]
        return columns, values / np.linalg.norm(values)


def _matrix(vectoriser: Vectoriser, documents: Sequence[Sequence[str]]) -> object:
    from scipy.sparse import csr_matrix

    indptr = [0]
    indices: list[npt.NDArray[np.intp]] = []
    data: list[Floats] = []
    for tokens in documents:
        columns, values = vectoriser.vector(tokens)
        indices.append(columns)
        data.append(values)
        indptr.append(indptr[-1] + len(columns))
    return csr_matrix((np.concatenate(data) if data else np.zeros(0),
                       np.concatenate(indices) if indices else np.zeros(0, dtype=np.intp), np.array(indptr)),
                      shape=(len(documents), vectoriser.width))


def minimise(function: Callable[[Floats], tuple[float, Floats]], start: Floats, max_iterations: int,
             history: int = 10, tolerance: float = 1e-6) -> Floats:
    """L-BFGS with a backtracking (Armijo) line search, for a smooth convex function returning its value
    and gradient. Plain numpy: scipy's L-BFGS-B spends most of its time in BLAS threads on a busy machine."""
    x = start
    value, gradient = function(x)
    steps: list[tuple[Floats, Floats, float]] = []
    for _ in range(max_iterations):
        direction = -gradient
        alphas = []
        for s, y, rho in reversed(steps):
            alpha = rho * float(s @ direction)
            alphas.append(alpha)
            direction = direction - alpha * y
        if steps:
            s, y, _ = steps[-1]
            direction = direction * (float(s @ y) / float(y @ y))
        for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
            beta = rho * float(y @ direction)
            direction = direction + (alpha - beta) * s
        slope = float(gradient @ direction)
        if slope >= 0.0:  # not a descent direction: start the memory afresh
            steps.clear()
            direction, slope = -gradient, -float(gradient @ gradient)
        step = 1.0 if steps else 1.0 / max(1.0, float(np.abs(gradient).max()))
        while True:
            candidate = x + step * direction
            new_value, new_gradient = function(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = candidate - x, new_gradient - gradient
        curvature = float(s @ y)
        if curvature > 1e-10:
            steps.append((s, y, 1.0 / curvature))
            if len(steps) > history:
                steps.pop(0)
        reduction = value - new_value
        x, value, gradient = candidate, new_value, new_gradient
        if reduction <= tolerance * max(1.0, abs(value)):
            break
    return x


class SoftmaxClassifier:
    """Multinomial logistic regression, L2-regularised, fitted by L-BFGS, evaluated with numpy."""

    def __init__(self, labels: list[str], weights: Floats, bias: Floats) -> None:
        self.labels = labels
        self.weights = weights  # features x labels
        self.bias = bias

    @classmethod
    def fit(cls, vectoriser: Vectoriser, documents: Sequence[Sequence[str]], labels: Sequence[str],
            sample_weights: Sequence[float], regularisation: float, max_iterations: int = 300) -> SoftmaxClassifier:
        """``regularisation`` is C: the weight of the data term against ``0.5 * |W|^2``."""
        names = sorted(set(labels))
        index = {name: number for number, name in enumerate(names)}
        x: Any = _matrix(vectoriser, documents)
        x_t = x.T.tocsr()
        y = np.array([index[label] for label in labels])
        w = np.asarray(sample_weights, dtype=np.float64)
        width, classes = vectoriser.width, len(names)
        onehot = np.zeros((len(y), classes))
        onehot[np.arange(len(y)), y] = 1.0

        def loss(flat: Floats) -> tuple[float, Floats]:
            weights = flat[:width * classes].reshape(width, classes)
            bias = flat[width * classes:]
            logits = x @ weights + bias
            logits -= logits.max(axis=1, keepdims=True)
            log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
            log_p = logits - log_norm
            value = -regularisation * float((w * (log_p * onehot).sum(axis=1)).sum()) + 0.5 * float((weights ** 2).sum())
            residual = regularisation * w[:, None] * (np.exp(log_p) - onehot)
            grad_w = x_t @ residual + weights
            grad_b = residual.sum(axis=0)
            return value, np.concatenate([np.asarray(grad_w).ravel(), grad_b])

        flat = minimise(loss, np.zeros(width * classes + classes), max_iterations)
        return cls(names, flat[:width * classes].reshape(width, classes).copy(), flat[width * classes:].copy())

    def log_probabilities(self, columns: npt.NDArray[np.intp], values: Floats) -> Floats:
        logits = self.bias + values @ self.weights[columns] if len(columns) else self.bias.copy()
        logits = logits - logits.max()
        return logits - math.log(float(np.exp(logits).sum()))


class PolicyReader:
    """Per section, the blended cosine similarity of a message to the section's two closest items."""

    def __init__(self, vectoriser: Vectoriser, items: Sequence[tuple[str, Sequence[str]]], section_ids: list[str],
                 best_weight: float) -> None:
        self.section_ids = section_ids
        self.best_weight = best_weight
        position = {section_id: number for number, section_id in enumerate(section_ids)}
        self._item_section = np.array([position[section_id] for section_id, _ in items], dtype=np.intp)
        postings: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for number, (_, tokens) in enumerate(items):
            columns, values = vectoriser.vector(tokens)
            for column, value in zip(columns.tolist(), values.tolist(), strict=True):
                postings[column].append((number, value))
        self._postings = {column: (np.array([n for n, _ in entries], dtype=np.intp), np.array([v for _, v in entries]))
                          for column, entries in postings.items()}
        self._items = len(items)

    def similarities(self, columns: npt.NDArray[np.intp], values: Floats) -> Floats:
        sims = np.zeros(self._items)
        for column, value in zip(columns.tolist(), values.tolist(), strict=True):
            found = self._postings.get(column)
            if found is not None:
                sims[found[0]] += value * found[1]
        result = np.zeros(len(self.section_ids))
        for number in range(len(self.section_ids)):
            mine = np.sort(sims[self._item_section == number])
            if len(mine) >= 2:
                result[number] = self.best_weight * mine[-1] + (1.0 - self.best_weight) * mine[-2]
            elif len(mine):
                result[number] = mine[-1]
        return result
