"""privacy-bot core: policy answers, privacy requests, deadlines, storage and outbox.

Nothing in this package knows about Telegram or IMAP; channel code lives in ``handlers``.
"""

__version__ = "0.1.0"
