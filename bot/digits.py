"""Digits as people type them: full-width (１２３), Arabic-Indic (١٢٣), Persian, Devanagari, superscript..."""

from __future__ import annotations

import unicodedata


def ascii_digits(text: str) -> str:
    """Every digit in ``text`` as 0-9, in order; everything else dropped. Codes and phone numbers are
    compared in this form, so no handler meets a digit ``int()`` or an ASCII encoder would choke on."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        value = unicodedata.digit(ch, None)
        if value is not None:
            out.append(str(value))
    return "".join(out)
