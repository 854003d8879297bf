"""Channel handlers: translate Telegram and email events into calls on the core (``bot``)."""
