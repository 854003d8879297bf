"""What the handlers need, built once per process and injected by the dispatcher (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Config
from bot.i18n import Translator
from bot.verification import VerificationCodes
from handlers.telegram.answers import RecentAnswers
from handlers.telegram.isolation import ChatEventIsolation
from handlers.telegram.repository import TelegramRepository
from handlers.telegram.storage import SQLiteStorage

if TYPE_CHECKING:
    from bot.services import Services


@dataclass
class TelegramDeps:
    services: Services
    repo: TelegramRepository
    codes: VerificationCodes
    storage: SQLiteStorage
    # the staff chat as the handlers see it (the console chat sets its own when none is configured)
    staff_chat_id: int = 0
    staff_user_ids: frozenset[int] = field(default_factory=frozenset)
    # answers shown lately, for "did not help" (memory only, bounded)
    answers: RecentAnswers = field(default_factory=RecentAnswers)
    # one update at a time per chat; the outbox's senders wait their turn in it too (isolation.py)
    events: ChatEventIsolation = field(default_factory=ChatEventIsolation)

    @classmethod
    def build(cls, services: Services) -> TelegramDeps:
        config = services.config
        return cls(services=services, repo=TelegramRepository(services.db),
                   codes=VerificationCodes(services.db, config.telegram, services.secret),
                   storage=SQLiteStorage(services.db), staff_chat_id=config.telegram.staff_chat_id,
                   staff_user_ids=frozenset(config.telegram.staff_user_ids))

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def translator(self) -> Translator:
        return self.services.translator

    def is_staff(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.staff_user_ids
