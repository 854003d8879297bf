"""``privacy-bot examples``: learning from staff at the command line (bot/learning.py).

- ``review --by NAME``: the questions waiting for a section, one by one: a section number, ``n`` (not in the
  policy), ``s`` (skip) or ``q`` (quit); ``review --by NAME --id N --section ID`` (or ``--not-in-policy``)
  decides one without asking, for scripts.
- ``list [--learnt] [--json]``: what waits (or what was learnt).
- ``export [--dir DIR]``: the learnt examples into ``<policy folder>/examples/<lang>/learnt.jsonl``.

A running bot learns decisions made here within ``CATCH_UP_SECONDS``; a stopped one at its next start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from bot.backup import database
from bot.config import Config
from bot.i18n import Translator, format_datetime, get_translator
from bot.learning import (
    LearningError,
    LearningQuestion,
    LearningService,
    PolicySections,
    QuestionAlreadyDecided,
    QuestionNotFound,
    UnknownSection,
)
from bot.policy import PolicyLoadError
from bot.policy.models import Section


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("examples", help="teach the bot: questions it could not answer, learnt examples")
    actions = parser.add_subparsers(dest="examples_action", metavar="ACTION", required=True)
    review = actions.add_parser("review", help="name the section that answers each waiting question")
    review.add_argument("--by", required=True, metavar="NAME", help="who decides (kept in the audit trail)")
    review.add_argument("--id", type=int, metavar="N", help="decide this question without asking")
    choice = review.add_mutually_exclusive_group()
    choice.add_argument("--section", metavar="ID", help="the section that answers it (with --id)")
    choice.add_argument("--not-in-policy", action="store_true", help="the policy does not answer it (with --id)")
    review.set_defaults(handler=_review)
    listing = actions.add_parser("list", help="questions waiting for a section (--learnt: the examples learnt)")
    listing.add_argument("--learnt", action="store_true", help="list the learnt examples instead")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)
    export = actions.add_parser("export", help="write the learnt examples into the policy folder")
    export.add_argument("--dir", type=Path, metavar="DIR",
                        help="policy folder to write into (default: [policy] directory)")
    export.set_defaults(handler=_export)


def _run(config: Config, action: Callable[[LearningService], Awaitable[int]]) -> int:
    from bot.cli import CliError

    try:
        sections = PolicySections(config.policy_directory)
    except PolicyLoadError as exc:
        raise CliError(f"policy: {exc}") from None

    async def main() -> int:
        db = await database(config).open()
        try:
            return await action(LearningService(db, config, learner=sections))
        finally:
            await db.close()

    return asyncio.run(main())


def _review(args: argparse.Namespace, config: Config) -> int:
    from bot.cli import CliError

    t, lang = get_translator(), config.policy.default_language
    if args.id is None and (args.section or args.not_in_policy):
        raise CliError(t(lang, "learning-cli-need-id"))
    if args.id is not None and not (args.section or args.not_in_policy):
        raise CliError(t(lang, "learning-cli-need-choice"))

    async def action(service: LearningService) -> int:
        if args.id is not None:
            print(await _decide(service, t, lang, args.id, None if args.not_in_policy else args.section, args.by))
            return 0
        return await _interactive(service, t, lang, args.by, sys.stdin, sys.stdout)

    return _run(config, action)


async def _decide(service: LearningService, t: Translator, lang: str, question_id: int, section_id: str | None,
                  by: str) -> str:
    """One decision; its line for the terminal. A refused one is a CliError (one line, exit 1)."""
    from bot.cli import CliError

    try:
        question = await service.decide(question_id, section_id, by=by)
    except QuestionNotFound:
        raise CliError(t(lang, "learning-cli-not-found", id=question_id)) from None
    except QuestionAlreadyDecided as exc:
        decided = exc.question
        raise CliError(t(lang, "learning-cli-already", id=question_id, by=decided.decided_by or "-",
                         at=format_datetime(lang, decided.decided_at) if decided.decided_at else "-")) from None
    except UnknownSection as exc:
        raise CliError(t(lang, "learning-cli-unknown-section", section=exc.section_id, language=exc.lang)) from None
    if question.section_id is None:
        return t(lang, "learning-cli-learnt-none", id=question.id)
    return t(lang, "learning-cli-learnt", id=question.id, section=question.section_id)


async def _interactive(service: LearningService, t: Translator, lang: str, by: str, source: TextIO,
                       sink: TextIO) -> int:
    """Each waiting question in turn: its text, the sections (offered ones marked), then the choice."""
    decided = skipped = 0
    after = 0
    while True:
        waiting = await service.pending(after_id=after, limit=1)
        if not waiting:
            break
        question = waiting[0]
        after = question.id
        sections = service.sections(question.lang)
        _show(t, lang, question, sections, sink)
        choice = _ask(t, lang, len(sections), source, sink)
        if choice == "q":
            break
        if choice == "s":
            skipped += 1
            print(t(lang, "learning-cli-skipped", id=question.id), file=sink)
            continue
        section_id = None if choice == "n" else sections[int(choice) - 1].id
        try:
            print(await _decide(service, t, lang, question.id, section_id, by), file=sink)
        except LearningError as exc:  # a colleague decided it meanwhile: say so and go on
            print(str(exc), file=sink)
            continue
        decided += 1
    left = len(await service.pending())
    if not decided and not skipped and not left:
        print(t(lang, "learning-cli-empty"), file=sink)
    else:
        print(t(lang, "learning-cli-summary", decided=decided, skipped=skipped, left=left), file=sink)
    return 0


def _show(t: Translator, lang: str, question: LearningQuestion, sections: list[Section], sink: TextIO) -> None:
    print(file=sink)
    print(t(lang, "learning-cli-question", id=question.id, language=question.lang, channel=question.channel,
            reason=question.reason, asked=question.asked, created=format_datetime(lang, question.created_at)),
          file=sink)
    print(f"  «{question.text}»", file=sink)
    print(t(lang, "learning-cli-offered", offered=", ".join(question.offered)) if question.offered
          else t(lang, "learning-cli-offered-none"), file=sink)
    print(t(lang, "learning-cli-sections"), file=sink)
    for number, section in enumerate(sections, start=1):
        mark = "*" if section.id in question.offered else " "
        print(f" {mark}{number:>3}. {section.id:<24} {section.title}", file=sink)


def _ask(t: Translator, lang: str, count: int, source: TextIO, sink: TextIO) -> str:
    """A section number (as text), "n", "s" or "q"; the end of the input is "q"."""
    while True:
        print(t(lang, "learning-cli-prompt"), end=" ", file=sink, flush=True)
        line = source.readline()
        if not line:
            print(file=sink)
            return "q"
        choice = line.strip().lower()
        if choice in ("n", "s", "q") or (choice.isdigit() and 1 <= int(choice) <= count):
            return choice
        print(t(lang, "learning-cli-bad-choice", choice=choice), file=sink)


def _list(args: argparse.Namespace, config: Config) -> int:
    t, lang = get_translator(), config.policy.default_language

    async def action(service: LearningService) -> int:
        items = await (service.learnt() if args.learnt else service.pending())
        if args.json:
            print(json.dumps([q.to_dict() for q in items], ensure_ascii=False, indent=2))
        elif not items:
            print(t(lang, "learning-cli-export-empty" if args.learnt else "learning-cli-empty"))
        elif args.learnt:
            for q in items:
                print(t(lang, "learning-cli-example", language=q.lang, text=q.text,
                        section=q.section_id or t(lang, "learning-cli-not-in-policy")))
        else:
            for q in items:
                print(t(lang, "learning-cli-question", id=q.id, language=q.lang, channel=q.channel, reason=q.reason,
                        asked=q.asked, created=format_datetime(lang, q.created_at)), f"«{q.text}»")
        return 0

    return _run(config, action)


def _export(args: argparse.Namespace, config: Config) -> int:
    from bot.cli import CliError

    t, lang = get_translator(), config.policy.default_language

    async def action(service: LearningService) -> int:
        try:
            written = await service.export(args.dir or config.policy_directory)
        except (LearningError, OSError) as exc:
            raise CliError(str(exc)) from None
        if not written:
            print(t(lang, "learning-cli-export-empty"))
        for language, (path, count, changed) in written.items():
            print(t(lang, "learning-cli-exported", language=language, path=str(path), count=count, changed=changed))
        return 0

    return _run(config, action)
