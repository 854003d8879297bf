"""The email channel: IMAP in (aioimaplib), SMTP out (aiosmtplib), MIME parsing, loop guard, threading."""
