"""Filters evaluated inline on the event loop.

aiogram 3.31 runs a bare magic filter (``F.text``) through ``asyncio.to_thread`` because it is not a
coroutine: a thread hop per filter per update. Wrapped in an async ``Filter`` the same check costs a
function call; the bench showed the difference.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Magic(Filter):
    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool | dict[str, Any]:
        result = self.magic.resolve(event)
        return result if isinstance(result, dict) else bool(result)
