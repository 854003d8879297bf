"""The container handed to channels and handlers: everything built once per process."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.app_secret import app_secret
from bot.audit import AuditLog
from bot.config import Config
from bot.i18n import Translator, get_translator
from bot.learning import LearningQuestion, LearningService, PolicySections, stored_examples, teach
from bot.outbox.repository import OutboxRepository
from bot.policy.engine import PolicyEngine
from bot.requests.service import RequestService
from bot.storage.db import Database


@dataclass
class Services:
    config: Config
    db: Database
    engine: PolicyEngine
    requests: RequestService
    outbox: OutboxRepository
    translator: Translator
    audit: AuditLog
    # the installation's secret key (bot/app_secret.py): signs Message-IDs and confirmation tokens
    secret: str
    # learning from staff; teaches whichever engine ``engine`` is (a reload replaces it)
    learning: LearningService = field(init=False)

    def __post_init__(self) -> None:
        self.learning = LearningService(self.db, self.config, learner=lambda: self.engine, outbox=self.outbox,
                                        audit=self.audit, translator=self.translator)

    async def close(self) -> None:
        await self.db.close()


async def open_core(config: Config) -> tuple[Database, RequestService]:
    """The database and the request core alone (the staff command line needs no policy engine).

    The caller closes the database; Database.open closes it itself when opening fails.
    """
    db = await Database(config.database_path).open()
    return db, RequestService(db, config, outbox=OutboxRepository(db), audit=AuditLog(),
                              translator=get_translator())


def load_engine(config: Config, translator: Translator, examples: Sequence[LearningQuestion] = ()) -> PolicyEngine:
    """The engine for this installation, with what staff taught it (bot/learning.py): passed to
    ``PolicyEngine.load(learnt=...)`` when the engine takes them (its models learn from them), and taught one
    by one once loaded (so each question is answered as staff said, as it was right after they decided).
    Blocking (CPU work): run it in a thread."""
    from bot.policy import models

    args = (config.policy_directory, config.policy.url, config.policy.min_confidence,
            config.policy.default_language, translator)
    learnt_type = getattr(models, "LearntExample", None)
    if learnt_type is None or "learnt" not in inspect.signature(PolicyEngine.load).parameters:
        engine = PolicyEngine.load(*args)
    else:
        policy = PolicySections(config.policy_directory)
        usable = [e for e in examples
                  if e.section_id is None or e.section_id in {s.id for s in policy.sections(e.lang)}]
        load: Any = PolicyEngine.load  # takes ``learnt=`` (checked above)
        engine = load(*args, learnt=[learnt_type(e.lang, e.text, e.section_id) for e in usable])
    teach(engine, examples)
    return engine


async def build_services(config: Config) -> Services:
    translator = get_translator()
    # The database first: a damaged, read-only or full file stops the bot at once, not after the engine
    # has spent seconds loading.
    db = await Database(config.database_path).open()
    try:
        secret = await app_secret(db, config)
        outbox = OutboxRepository(db)
        audit = AuditLog()
        # What staff taught (bot/learning.py) is learnt again at every start.
        examples = await stored_examples(db)
        # Loading the engine reads the policy and builds its indexes: CPU work, kept off the event loop.
        engine = await asyncio.to_thread(load_engine, config, translator, examples)
    except BaseException:
        await db.close()
        raise
    requests = RequestService(db, config, outbox=outbox, audit=audit, translator=translator)
    services = Services(config=config, db=db, engine=engine, requests=requests, outbox=outbox,
                        translator=translator, audit=audit, secret=secret)
    services.learning.mark_taught(e.id for e in examples)
    return services
