"""The container handed to channels and handlers: everything built once per process."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.app_secret import app_secret
from bot.audit import AuditLog
from bot.backup import database
from bot.config import Config
from bot.i18n import Translator, get_translator
from bot.learning import LearningQuestion, LearningService, PolicySections, stored_examples, teach
from bot.outbox.repository import OutboxRepository
from bot.policy.engine import CACHE_ENVIRONMENT, PolicyEngine
from bot.policy.models import LearntExample
from bot.requests.service import RequestService
from bot.storage.db import Database


@dataclass
class Services:
    config: Config
    db: Database
    # Replaced whole by a policy reload (bot/policy_reload.py): read it where it is used, never keep it.
    engine: PolicyEngine
    requests: RequestService
    outbox: OutboxRepository
    translator: Translator
    audit: AuditLog
    # the installation's secret key (bot/app_secret.py): signs Message-IDs and confirmation tokens
    secret: str
    # What the channels require of a policy engine before it may replace this one on a reload
    # (bot/policy_reload.py): each raises with one line for people when the engine will not do.
    policy_checks: list[Callable[[PolicyEngine], None]] = field(default_factory=list)
    # Section ids of earlier policies (the last one recorded, and any replaced by a reload): a button
    # naming one is stale, not forged.
    retired_section_ids: set[str] = field(default_factory=set)
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
    db = await database(config).open()
    return db, RequestService(db, config, outbox=OutboxRepository(db), audit=AuditLog(),
                              translator=get_translator())


def load_engine(config: Config, translator: Translator, examples: Sequence[LearningQuestion] = ()) -> PolicyEngine:
    """The engine for this installation, at start and on every reload (bot/policy_reload.py), with what staff
    taught it (bot/learning.py): its models learn from those examples, and each is also taught once loaded
    (so each question is answered as staff said). Blocking CPU work: call it through asyncio.to_thread.
    Fitted models are cached (an edited policy folder or new examples are fitted once, then load in well
    under a second): in $PRIVACY_ENGINE_CACHE, else the user's cache folder, else beside the database (a
    service whose home is hidden from it)."""
    cache = os.environ.get(CACHE_ENVIRONMENT) or _user_cache() or config.database_path.parent / "engine-cache"
    policy = PolicySections(config.policy_directory)
    usable = [e for e in examples
              if e.section_id is None or e.section_id in {s.id for s in policy.sections(e.lang)}]
    engine = PolicyEngine.load(config.policy_directory, config.policy.url, config.policy.min_confidence,
                               config.policy.default_language, translator,
                               learnt=[LearntExample(e.lang, e.text, e.section_id) for e in usable], cache_dir=cache)
    teach(engine, examples)
    return engine


def _user_cache() -> Path | None:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "privacy-bot"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return base if os.access(base, os.W_OK) else None


async def build_services(config: Config) -> Services:
    translator = get_translator()
    # The database first: a damaged, read-only or full file stops the bot at once, not after the engine
    # has spent seconds loading.
    db = await database(config).open()
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
