"""Proof a person still owes (a code typed in the chat, a reply to our mail): when to remind them, once,
and when to give up. Written once for every channel; each kind of proof has its own timing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Step(StrEnum):
    WAIT = "wait"
    REMIND = "remind"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Timing:
    remind_after: timedelta
    expire_after: timedelta


def next_step(since: datetime, reminded: bool, now: datetime, timing: Timing) -> Step:
    """Past its expiry a proof is given up; before it, one reminder once the reminder time has come."""
    age = now - since
    if age >= timing.expire_after:
        return Step.EXPIRE
    if age >= timing.remind_after and not reminded:
        return Step.REMIND
    return Step.WAIT
