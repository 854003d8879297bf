"""What a completed deletion destroyed, for the destruction act (Roskomnadzor order 179 of 2022).

Staff choose the categories of personal data and the information systems from the configured lists
(``[destruction]`` in config.toml); ``choose`` is the one check of a choice, whatever channel made it.
The record keeps each choice's labels as configured at the time, so an act printed after the lists
changed still names what was chosen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from bot.config import DestructionConfig
from bot.requests.errors import DestructionRequired, UnknownChoice

Kind = Literal["categories", "systems"]
KINDS: tuple[Kind, Kind] = ("categories", "systems")


@dataclass(frozen=True)
class Chosen:
    id: str
    labels: dict[str, str]  # language -> label

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or next(iter(self.labels.values()), self.id)


@dataclass(frozen=True)
class Destruction:
    categories: tuple[Chosen, ...]
    systems: tuple[Chosen, ...]
    method: dict[str, str]

    def ids(self, kind: Kind) -> list[str]:
        return [c.id for c in (self.categories if kind == "categories" else self.systems)]

    def labels(self, kind: Kind, lang: str) -> list[str]:
        return [c.label(lang) for c in (self.categories if kind == "categories" else self.systems)]

    def method_label(self, lang: str) -> str:
        return self.method.get(lang) or next(iter(self.method.values()), "")

    def to_row(self) -> dict[str, str]:
        def items(chosen: tuple[Chosen, ...]) -> str:
            return json.dumps([{"id": c.id, **c.labels} for c in chosen], ensure_ascii=False)

        return {"categories": items(self.categories), "systems": items(self.systems),
                "method": json.dumps(self.method, ensure_ascii=False)}

    @classmethod
    def from_row(cls, categories: str, systems: str, method: str) -> Destruction:
        def items(text: str) -> tuple[Chosen, ...]:
            data: list[dict[str, Any]] = json.loads(text)
            return tuple(Chosen(id=str(d["id"]), labels={k: str(v) for k, v in d.items() if k != "id"})
                         for d in data)

        return cls(categories=items(categories), systems=items(systems),
                   method={k: str(v) for k, v in json.loads(method).items()})


def known_ids(config: DestructionConfig, kind: Kind) -> list[str]:
    return [c.id for c in config.choices(kind)]


def choose(config: DestructionConfig, request_id: str, categories: Iterable[str],
           systems: Iterable[str]) -> Destruction:
    """The chosen ids checked against the configured lists: each known (UnknownChoice), at least one of
    each kind (DestructionRequired); repeats are dropped and the configured order kept."""
    chosen: dict[Kind, tuple[Chosen, ...]] = {}
    for kind, wanted in zip(KINDS, (categories, systems), strict=True):
        options = config.choices(kind)
        wanted_ids = [value.strip() for value in wanted if value.strip()]
        known = [c.id for c in options]
        for value in wanted_ids:
            if value not in known:
                raise UnknownChoice(kind, value, known)
        if not wanted_ids:
            raise DestructionRequired(request_id, kind, known)
        chosen[kind] = tuple(Chosen(id=c.id, labels={"ru": c.ru, "en": c.en}) for c in options
                             if c.id in wanted_ids)
    return Destruction(categories=chosen["categories"], systems=chosen["systems"],
                       method={"ru": config.method.ru, "en": config.method.en})
