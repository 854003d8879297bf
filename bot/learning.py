"""Learning from staff: questions the engine could not place reach staff, and their answer teaches it.

A channel calls ``submit`` (or ``add`` inside its own transaction) when the engine abstained on a question,
or when a person said an answer did not help. The question is masked (``bot.masking.mask_question``: no
emails, phones, links or names), stored as pending (the same question waiting already is counted, not
stored twice) and announced to staff through the outbox (channel "staff", kind "staff.learning"), with the
sections the engine offered. Staff name the section that answers it, or say the policy does not
(``decide``: from the staff chat or ``privacy-bot examples review``). The decision is stored, audited
(``learning_audit``: who, when, which section; never the question) and taught to the engine at once; every
start teaches the engine all stored examples again (``bot.services.load_engine``), and a running bot picks
up decisions made at the command line within ``CATCH_UP_SECONDS`` (``catch_up``). Examples are kept for ``[retention]
learning_days``; ``export`` writes them into ``policy_text/examples/<lang>/learnt.jsonl`` for the policy
owner to keep. Channel-neutral: nothing here knows Telegram or mail.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from bot.audit import AuditLog, staff_actor
from bot.config import Config
from bot.i18n import Translator, get_translator
from bot.masking import learning_key, mask_question
from bot.outbox.repository import OutboxRepository
from bot.policy.models import Section, Understanding
from bot.policy.text import request_text
from bot.storage import learning_repo
from bot.storage.db import Database
from bot.storage.learning_repo import LEARNT, PENDING, QuestionRow
from bot.storage.timefmt import utcnow

log = logging.getLogger(__name__)

REASONS = ("abstained", "unhelpful")
STAFF_KIND = "staff.learning"
# The longest question kept (a letter is cut: staff need the question, and it is the head of it).
MAX_TEXT_CHARS = 1000
# Questions waiting at most; beyond, new ones are not kept (staff are far behind, or someone floods).
MAX_PENDING = 1000
# Staff-chat posts per hour at most; more questions still wait for `privacy-bot examples review`.
STAFF_POSTS_PER_HOUR = 30
# How often the running bot looks for decisions made at the command line.
CATCH_UP_SECONDS = 10.0
EXPORT_FILE = "learnt.jsonl"


class Learner(Protocol):
    """What learning needs of the engine (``PolicyEngine``; ``PolicySections`` where no engine is loaded)."""

    def sections(self, lang: str) -> list[Section]: ...

    def learn(self, lang: str, text: str, section_id: str | None) -> None: ...


@dataclass(frozen=True)
class LearningQuestion:
    id: int
    lang: str
    text: str  # masked
    channel: str
    reason: str  # abstained, unhelpful
    offered: tuple[str, ...]  # section ids the engine offered, best first
    asked: int
    status: str  # pending, learnt
    section_id: str | None  # with status learnt: the section, or None (the policy does not answer it)
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @property
    def not_in_policy(self) -> bool:
        return self.status == LEARNT and self.section_id is None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "lang": self.lang, "text": self.text, "channel": self.channel,
                "reason": self.reason, "offered": list(self.offered), "asked": self.asked, "status": self.status,
                "section": self.section_id, "decided_by": self.decided_by,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None,
                "created_at": self.created_at.isoformat()}


def _question(row: QuestionRow) -> LearningQuestion:
    return LearningQuestion(row.id, row.lang, row.text, row.channel, row.reason, row.offered, row.asked, row.status,
                            row.section_id, row.decided_by, row.decided_at, row.created_at)


class LearningError(Exception):
    """A decision that cannot be made; ``str()`` is one line for staff."""


class QuestionNotFound(LearningError):
    def __init__(self, question_id: int) -> None:
        super().__init__(f"question {question_id} not found")
        self.question_id = question_id


class QuestionAlreadyDecided(LearningError):
    def __init__(self, question: LearningQuestion) -> None:
        super().__init__(f"question {question.id} was already decided by {question.decided_by}")
        self.question = question


class UnknownSection(LearningError):
    def __init__(self, section_id: str, lang: str) -> None:
        super().__init__(f"no section {section_id!r} in the {lang} policy")
        self.section_id = section_id
        self.lang = lang


def reference_digest(reference: str) -> str:
    """What is kept of a channel's reference (a Message-ID may name its writer's machine)."""
    return hashlib.sha256(reference.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def masked_question(text: str, known_names: Iterable[str] = ()) -> str:
    """What is kept of a message to learn from: the part that asks (no quoted history, salutation or
    signature), masked, and not too long."""
    return mask_question(request_text(text), known_names).strip()[:MAX_TEXT_CHARS]


@dataclass(frozen=True)
class AskedQuestion:
    """A question as the bot may keep it to learn from: masked, with the sections it was offered."""

    lang: str
    text: str
    offered: tuple[str, ...]


def asked_question(understanding: Understanding, text: str, known_names: Iterable[str] = ()) -> AskedQuestion:
    return AskedQuestion(understanding.lang, masked_question(text, known_names), tuple(offered_sections(understanding)))


def offered_sections(understanding: Understanding) -> list[str]:
    """The sections an understanding offered (or answered with), best first."""
    ids = [s.id for s in understanding.sections]
    if understanding.answer is not None and understanding.answer.section_id not in ids:
        ids.insert(0, understanding.answer.section_id)
    return ids


class LearningService:
    def __init__(self, db: Database, config: Config, *, learner: Learner | Callable[[], Learner],
                 outbox: OutboxRepository | None = None, audit: AuditLog | None = None,
                 translator: Translator | None = None) -> None:
        """``learner`` may be a callable returning the current engine (it is replaced when the policy is
        reloaded)."""
        self.db = db
        self.config = config
        self._learner_of: Callable[[], Learner] = (
            (lambda: learner) if hasattr(learner, "learn") else learner)  # type: ignore[assignment,return-value]
        self.outbox = outbox or OutboxRepository(db)
        self.audit = audit or AuditLog()
        self.translator = translator or get_translator()
        # Decided questions this process has taught its engine (catch_up teaches the others).
        self._taught: set[int] = set()

    @property
    def learner(self) -> Learner:
        return self._learner_of()

    # -- questions reach staff -----------------------------------------------------------------------------

    async def add(self, conn: aiosqlite.Connection, *, lang: str, text: str, channel: str, reason: str,
                  offered: Sequence[str] = (), known_names: Iterable[str] = (),
                  reference: str | None = None) -> LearningQuestion | None:
        """Keep a question for staff and announce it, inside the caller's transaction. The same question
        waiting already is counted instead; a repeated ``reference`` is a no-op. None when nothing is kept
        (nothing left once masked, or too many questions wait)."""
        if reason not in REASONS:
            raise ValueError(f"reason must be one of {REASONS}")
        now = utcnow()
        digest = reference_digest(reference) if reference else None
        if digest is not None:
            existing = await learning_repo.by_reference(conn, digest)
            if existing is not None:
                return _question(existing)
        masked = masked_question(text, known_names)
        key = learning_key(masked)
        if not key:
            return None
        waiting = await learning_repo.pending_with_key(conn, lang, key)
        if waiting is not None:
            await learning_repo.asked_again(conn, waiting.id, now)
            return _question(waiting)
        if reason == "abstained":
            # Staff already said what this question means (the policy does not answer it): asked again, it
            # is not theirs to decide again; an answer that did not help is.
            decided = await learning_repo.learnt_with_key(conn, lang, key)
            if decided is not None:
                return _question(decided)
        if await learning_repo.count(conn, status=PENDING) >= MAX_PENDING:
            log.warning("learning: %d questions wait for staff; a new one is not kept", MAX_PENDING)
            return None
        recent = await learning_repo.count(conn, created_since=now - timedelta(hours=1))
        question_id = await learning_repo.insert(conn, lang=lang, text=masked, text_key=key, channel=channel,
                                                 reason=reason, offered=list(offered)[:5], reference=digest,
                                                 now=now)
        row = await learning_repo.get(conn, question_id)
        assert row is not None
        question = _question(row)
        if recent < STAFF_POSTS_PER_HOUR:
            await self.outbox.enqueue(conn, channel="staff", recipient="", kind=STAFF_KIND,
                                      payload={"question_id": question_id, "kind": STAFF_KIND,
                                               "text": self.staff_text(question)},
                                      idempotency_key=f"learning:{question_id}:staff")
        return question

    async def submit(self, **fields: Any) -> LearningQuestion | None:
        """``add`` in a transaction of its own."""
        async with self.db.transaction() as conn:
            return await self.add(conn, **fields)

    async def submit_asked(self, asked: AskedQuestion, *, channel: str, reason: str) -> LearningQuestion | None:
        return await self.submit(lang=asked.lang, text=asked.text, channel=channel, reason=reason,
                                 offered=asked.offered)

    def staff_text(self, question: LearningQuestion) -> str:
        """The plain-text announcement (the staff chat renders its own post with buttons)."""
        lang = self.config.policy.default_language
        offered = ", ".join(question.offered) or "-"
        return self.translator(lang, "learning-staff", id=question.id, reason=question.reason,
                               channel=question.channel, language=question.lang, text=question.text, offered=offered)

    # -- staff decide --------------------------------------------------------------------------------------

    def sections(self, lang: str) -> list[Section]:
        return self.learner.sections(lang)

    async def decide(self, question_id: int, section_id: str | None, *, by: str) -> LearningQuestion:
        """Name the section that answers the question (None: the policy does not answer it), audit it and
        teach the engine at once. QuestionNotFound, QuestionAlreadyDecided, UnknownSection."""
        learner = self.learner
        actor = staff_actor(by)
        async with self.db.transaction() as conn:
            row = await learning_repo.get(conn, question_id)
            if row is None:
                raise QuestionNotFound(question_id)
            if row.status != PENDING:
                raise QuestionAlreadyDecided(_question(row))
            if section_id is not None and section_id not in {s.id for s in learner.sections(row.lang)}:
                raise UnknownSection(section_id, row.lang)
            if not await learning_repo.decide(conn, question_id, section_id, actor, utcnow()):
                raise QuestionAlreadyDecided(_question(row))  # unreachable under the write lock; kept safe
            await self.audit.append_learning(conn, question_id, "learnt", actor, {
                "section": section_id, "what": "section" if section_id else "not_in_policy", "lang": row.lang,
                "channel": row.channel, "why": row.reason})
            decided = await learning_repo.get(conn, question_id)
        assert decided is not None
        learner.learn(decided.lang, decided.text, decided.section_id)
        self._taught.add(decided.id)
        return _question(decided)

    # -- reading ---------------------------------------------------------------------------------------------

    async def get(self, question_id: int) -> LearningQuestion:
        row = await learning_repo.get(self.db.conn, question_id)
        if row is None:
            raise QuestionNotFound(question_id)
        return _question(row)

    async def pending(self, *, after_id: int = 0, limit: int | None = None) -> list[LearningQuestion]:
        rows = await learning_repo.listing(self.db.conn, status=PENDING, after_id=after_id, limit=limit)
        return [_question(r) for r in rows]

    async def learnt(self, lang: str | None = None) -> list[LearningQuestion]:
        """Examples in the order they were decided (a later decision on the same question wins)."""
        return await stored_examples(self.db, lang)

    async def audit_events(self, question_id: int) -> list[Any]:
        return await self.audit.learning_events(self.db.conn, question_id)

    # -- the engine learns -------------------------------------------------------------------------------

    async def catch_up(self) -> int:
        """Teach the engine decisions made elsewhere (the command line) since it last learnt; how many."""
        new = [q for q in await self.learnt() if q.id not in self._taught]
        if not new:
            return 0
        taught = teach(self.learner, new)
        self._taught.update(q.id for q in new)
        log.info("learning: the engine learnt %d example(s) decided elsewhere", taught)
        return taught

    def mark_taught(self, ids: Iterable[int]) -> None:
        """These examples were given to the engine when it was built."""
        self._taught.update(ids)

    def forget_taught(self) -> None:
        """The engine was rebuilt (a policy reload): everything must be taught again."""
        self._taught.clear()

    # -- keeping examples in the policy folder ------------------------------------------------------------

    async def export(self, directory: Path) -> dict[str, tuple[Path, int, int]]:
        """Write the learnt examples into ``<directory>/examples/<lang>/learnt.jsonl``, merged with what the
        file holds (a later decision on the same question replaces it). Per language: (file, lines in it,
        lines added or changed)."""
        by_lang: dict[str, list[LearningQuestion]] = {}
        for example in await self.learnt():
            by_lang.setdefault(example.lang, []).append(example)
        written: dict[str, tuple[Path, int, int]] = {}
        for lang, examples in sorted(by_lang.items()):
            path = directory / "examples" / lang / EXPORT_FILE
            lines = _read_jsonl(path)
            changed = 0
            for example in examples:
                entry = {"text": example.text, "section": example.section_id}
                key = learning_key(example.text)
                if lines.get(key) != entry:
                    lines[key] = entry
                    changed += 1
            _write_jsonl(path, lines.values())
            written[lang] = (path, len(lines), changed)
        return written


def _read_jsonl(path: Path) -> dict[str, dict[str, Any]]:
    lines: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return lines
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LearningError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise LearningError(f"{path}:{number}: expected {{\"text\": ..., \"section\": ...}}")
        lines[learning_key(entry["text"])] = entry
    return lines


def _write_jsonl(path: Path, entries: Iterable[dict[str, Any]]) -> None:
    """Written whole, then moved into place: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for entry in entries:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- loading the engine with what staff taught ------------------------------------------------------------

class PolicySections:
    """The policy's sections without an engine (the command line decides; the running bot learns it)."""

    def __init__(self, directory: Path) -> None:
        from bot.policy.loader import load_policy

        self._policy = load_policy(directory)

    def sections(self, lang: str) -> list[Section]:
        return list(self._policy.sections.get(lang, []))

    def learn(self, lang: str, text: str, section_id: str | None) -> None:
        """Nothing here: the running bot picks the decision up (``catch_up``), or learns it at start."""


async def stored_examples(db: Database, lang: str | None = None) -> list[LearningQuestion]:
    """The examples staff taught, in the order they were decided (a later decision on a question wins)."""
    return [_question(r) for r in await learning_repo.listing(db.conn, status=LEARNT, lang=lang)]


def teach(learner: Learner, examples: Iterable[LearningQuestion]) -> int:
    """Teach ``learner`` the examples whose section still exists, in order; how many were taught."""
    taught = 0
    for example in examples:
        if example.section_id is not None and example.section_id not in {s.id for s in learner.sections(example.lang)}:
            log.warning("learning: example %d names section %r, which the policy no longer has; skipped",
                        example.id, example.section_id)
            continue
        learner.learn(example.lang, example.text, example.section_id)
        taught += 1
    return taught
