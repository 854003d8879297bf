"""The policy and its answer engine: sections in ru/en, language, intent, ranked sections, quoted answers."""

from bot.policy.engine import PolicyEngine
from bot.policy.loader import PolicyLoadError
from bot.policy.models import Answer, Intent, RankedSection, Section, Understanding

__all__ = ["Answer", "Intent", "PolicyEngine", "PolicyLoadError", "RankedSection", "Section", "Understanding"]
