"""``privacy-bot policy list`` and ``privacy-bot policy show ID``: the policy sections as loaded."""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import Config
from bot.i18n import get_translator
from bot.policy import PolicyLoadError
from bot.policy.loader import load_policy


def register(subparsers: Any) -> None:
    policy = subparsers.add_parser("policy", help="list or show the policy sections")
    actions = policy.add_subparsers(dest="policy_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the sections (id, title)")
    listing.add_argument("--lang", choices=("ru", "en"), help="language (default: [policy] default_language)")
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="print one section")
    show.add_argument("id", help="section id, e.g. personal-data")
    show.add_argument("--lang", choices=("ru", "en"), help="language (default: [policy] default_language)")
    show.set_defaults(handler=_show)


def _load(config: Config) -> Any:
    from bot.cli import CliError

    try:
        return load_policy(config.policy_directory)
    except PolicyLoadError as exc:
        raise CliError(f"policy: {exc}") from None


def _list(args: argparse.Namespace, config: Config) -> int:
    policy = _load(config)
    lang = args.lang or config.policy.default_language
    t = get_translator()
    print(t(lang, "policy-list-header", language=lang))
    for section in policy.sections[lang]:
        indent = "    " if section.parent else "  "
        print(f"{indent}{section.id:<22} {section.title}")
    print(t(lang, "policy-version-label", version=policy.version, date=policy.effective_date.isoformat()))
    return 0


def _show(args: argparse.Namespace, config: Config) -> int:
    from bot.cli import CliError

    policy = _load(config)
    lang = args.lang or config.policy.default_language
    section = policy.section(lang, args.id)
    if section is None:
        known = ", ".join(s.id for s in policy.sections[lang])
        raise CliError(f"no policy section {args.id!r}; known ids: {known}")
    t = get_translator()
    print(section.title)
    print()
    print(section.text)
    print()
    print(t(lang, "policy-version-label", version=policy.version, date=policy.effective_date.isoformat()))
    return 0
