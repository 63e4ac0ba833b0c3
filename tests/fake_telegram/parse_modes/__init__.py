"""Telegram's parse modes (HTML, MarkdownV2, legacy Markdown), one per module, after TDLib.

Each ``parse_*`` function returns the plain text and its entities (offsets and lengths in
UTF-16 code units) before Telegram's whitespace trimming; :func:`..formatting.parse_text`
picks the mode and trims.
"""
