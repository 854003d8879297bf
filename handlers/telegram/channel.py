"""The Telegram channel: a Bot on the configured Bot API server, polling or a webhook, and its senders."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from functools import partial
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.outbox.base import Sender
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.dispatcher import RetryMiddleware, build_dispatcher, check_policy_buttons
from handlers.telegram.limits import LimitsMiddleware
from handlers.telegram.polling import Poller
from handlers.telegram.reminders import run_code_reminders
from handlers.telegram.response_models import hold_response_models
from handlers.telegram.senders import StaffSender, TelegramSender

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = ("start", "myrequests", "privacy", "forget", "language", "cancel", "help")
STAFF_COMMANDS = ("queue", "overdue", "stats", "request", "cancel")


def webhook_secret(token: str) -> str:
    """The secret-token header value, derived from the bot token so no second secret must be managed."""
    return hmac.new(token.encode(), b"privacy-bot webhook", hashlib.sha256).hexdigest()


def make_bot(token: str, api_base: str) -> Bot:
    hold_response_models()
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
    session.middleware(LimitsMiddleware())  # nothing over Telegram's limits leaves, whatever built it
    session.middleware(RetryMiddleware())
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


class TelegramChannel:
    def __init__(self, services: Services) -> None:
        token = services.config.secrets.telegram_token
        if not token:
            raise ValueError("the Telegram channel needs PRIVACY_BOT_TELEGRAM_TOKEN")
        self.services = services
        self.config = services.config.telegram
        self.token = token
        self.deps = TelegramDeps.build(services)
        self.bot = make_bot(token, self.config.api_base)
        self.dp: Dispatcher = build_dispatcher(self.deps)
        # A reloaded policy must pass the same check before it replaces the running one.
        services.policy_checks.append(partial(check_policy_buttons, self.deps))

    def senders(self) -> list[Sender]:
        return [TelegramSender(self.bot, self.deps), StaffSender(self.bot, self.deps)]

    async def run(self, stop: asyncio.Event) -> None:
        reminders = asyncio.create_task(run_code_reminders(self.deps, stop))
        try:
            if self.config.mode == "webhook":
                await self._run_webhook(stop)
            else:
                with contextlib.suppress(Exception):
                    await self.bot.delete_webhook(drop_pending_updates=False)
                await self._set_commands()
                db = self.services.db
                await Poller(self.dp, self.bot, healthy=lambda: db.failure is None).run(stop)
        finally:
            stop.set()
            await reminders
            await self.bot.session.close()

    async def _set_commands(self) -> None:
        """The command menu in Telegram's client, per language, and the staff commands in the staff chat."""
        translator = self.deps.translator
        try:
            for lang in ("ru", "en"):
                commands = [BotCommand(command=name, description=translator(lang, f"tg-cmd-{name}"))
                            for name in PRIVATE_COMMANDS]
                await self.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(),
                                               language_code=lang)
            if self.deps.staff_chat_id:
                staff_lang = self.services.config.policy.default_language
                await self.bot.set_my_commands(
                    [BotCommand(command=name, description=translator(staff_lang, f"tg-cmd-{name}"))
                     for name in STAFF_COMMANDS], scope=BotCommandScopeChat(chat_id=self.deps.staff_chat_id))
        except Exception as exc:  # a menu is a convenience: never a reason not to start
            log.warning("telegram: could not set the command menu (%s)", type(exc).__name__)

    async def _run_webhook(self, stop: asyncio.Event) -> None:
        secret = webhook_secret(self.token)
        app = web.Application()
        # handle_in_background=False: the update is handled before Telegram gets its 200, so a stop
        # (aiohttp waits for running requests) never drops one half-way.
        SimpleRequestHandler(dispatcher=self.dp, bot=self.bot, secret_token=secret,
                             handle_in_background=False).register(app, path=self.config.webhook_path)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.webhook_host, self.config.webhook_port)
        await site.start()
        try:
            if self.config.webhook_url:
                await self.bot.set_webhook(self.config.webhook_url, secret_token=secret,
                                           allowed_updates=self.dp.resolve_used_update_types())
            await self._set_commands()
            log.info("telegram: webhook listening on %s:%s%s", self.config.webhook_host, self.config.webhook_port,
                     self.config.webhook_path)
            await stop.wait()
        finally:
            await runner.cleanup()
