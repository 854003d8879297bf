"""The Telegram channel (aiogram 3): routers by kind of chat, middlewares, senders, the console chat."""
