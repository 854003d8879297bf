"""``privacy-bot ask``: understand one message, or many as JSON lines on stdin (engine loaded once)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from bot.config import Config
from bot.i18n import format_date, get_translator
from bot.policy import Intent, PolicyEngine, PolicyLoadError, Understanding


def register(subparsers: Any) -> None:
    ask = subparsers.add_parser("ask", help="answer a message from the policy (or JSON lines from stdin)")
    ask.add_argument("text", nargs="?", help="the message")
    ask.add_argument("--lang", choices=("ru", "en"), help="language of the message (detected when omitted)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--jsonl", action="store_true",
                     help='read {"text": ..., "lang"?: ..., "id"?: ...} per line on stdin, write one result per line')
    ask.set_defaults(handler=_handle)


def load_engine(config: Config) -> PolicyEngine:
    from bot import services
    from bot.cli import CliError

    try:
        return services.load_engine(config, get_translator())
    except PolicyLoadError as exc:
        raise CliError(f"policy: {exc}") from None


def _handle(args: argparse.Namespace, config: Config) -> int:
    from bot.cli import CliError

    if args.jsonl:
        if args.text is not None:
            raise CliError("ask --jsonl reads messages from stdin; do not also give TEXT")
        return run_jsonl(load_engine(config), sys.stdin, sys.stdout)
    if args.text is None or not args.text.strip():
        raise CliError('ask needs a message: privacy-bot ask "TEXT" (or --jsonl with lines on stdin)')
    engine = load_engine(config)
    result = engine.understand(args.text, lang=args.lang)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        print(render_human(engine, result))
    return 0


def run_jsonl(engine: PolicyEngine, source: TextIO, sink: TextIO) -> int:
    """One output line per input line, in order, each written as soon as it is ready; a bad line gets an
    ``error`` object, not a crash."""
    status = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        out: dict[str, Any]
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            out = {"error": f"line {number}: not valid JSON ({exc.msg})"}
            status = 1
        else:
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                out = {"error": f"line {number}: expected an object with a string \"text\""}
                if isinstance(item, dict) and "id" in item:
                    out = {"id": item["id"], **out}
                status = 1
            else:
                lang = item.get("lang") if item.get("lang") in ("ru", "en") else None
                out = engine.understand(item["text"], lang=lang).as_dict()
                if "id" in item:
                    out = {"id": item["id"], **out}
        sink.write(json.dumps(out, ensure_ascii=False) + "\n")
        # A caller may send one line and wait for its answer before the next (a pipe is block-buffered).
        sink.flush()
    return status


_INTENT_MESSAGES = {
    Intent.DELETION: "policy-intent-deletion",
    Intent.CORRECTION: "policy-intent-correction",
    Intent.ACCESS: "policy-intent-access",
    Intent.HUMAN: "policy-intent-human",
    Intent.GREETING: "policy-intent-greeting",
    Intent.OUT_OF_SCOPE: "policy-intent-out-of-scope",
}


def render_human(engine: PolicyEngine, result: Understanding) -> str:
    t = get_translator()
    lang = result.lang
    if result.answer is not None:
        body = result.answer.text
    elif result.intent is Intent.QUESTION and result.unanswered:
        body = t(lang, "policy-not-said")
    elif result.intent is Intent.QUESTION:
        body = t(lang, "policy-no-answer")
    else:
        body = t(lang, _INTENT_MESSAGES[result.intent])
    lines = [body, ""]
    if result.sections:
        ranked = ", ".join(f"{s.id} ({s.score:.2f})" for s in result.sections)
        lines.append(f"{t(lang, 'policy-section-label')}: {ranked}")
    lines.append(f"intent: {result.intent.value}, confidence: {result.confidence:.2f}, lang: {lang}")
    lines.append(t(lang, "policy-version-label", version=result.policy_version,
                   date=format_date(lang, engine.effective_date)))
    return "\n".join(lines)
