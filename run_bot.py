"""Start the sales bot: `python run_bot.py` (long polling; webhooks when WEBHOOK_URL is set).
Configuration comes from the environment or `.env` (see README)."""

from __future__ import annotations

import asyncio
import logging
import sys

from aiogram.utils.token import TokenValidationError, validate_token
from pydantic import ValidationError

from bot.app import create_application, load_sales_book
from bot.fanout.link import WorkerFailed
from bot.telegram.i18n import create_i18n, tp
from bot.telegram.logging_setup import configure_logging
from bot.telegram.telegram_probe import TokenRejected, reach_telegram
from config.settings import Settings
from domain.book_loading import SalesBookError
from domain.sales_book import SalesBook
from storage.database import DatabaseUnavailable

log = logging.getLogger("salesbot")
EXIT_CONFIGURATION = 2
EXIT_WORKER_FAILED = 1


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in item['loc']).upper() or '*'}: {item['msg']}"
            for item in error.errors()
        )
        return _explain("console.bad_settings", "ru", problems=problems)
    locale = settings.default_locale
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        return _explain("console.no_token", locale)
    token = settings.bot_token.get_secret_value()
    try:
        validate_token(token)
    except TokenValidationError:
        return _explain("console.bad_token", locale)
    configure_logging(settings.log_level, token)
    try:
        book = load_sales_book(settings.sales_book)
    except (SalesBookError, OSError) as error:
        return _explain("console.bad_book", locale, problems=str(error))
    try:
        asyncio.run(_serve(settings, book))
    except KeyboardInterrupt:
        log.info("stopped")
    except TokenRejected as rejection:
        return _explain("console.token_rejected", locale, reason=rejection.description)
    except DatabaseUnavailable as unavailable:
        return _explain(
            "console.database_unavailable", locale, url=unavailable.url, reason=unavailable.reason
        )
    except WorkerFailed as failure:
        log.error("stopped: %s (its own lines above say why)", failure)
        return EXIT_WORKER_FAILED
    return 0


async def _serve(settings: Settings, book: SalesBook) -> None:
    if settings.workers > 1:
        # Imported only with workers: the poller itself loads no handler.
        from bot.fanout.poller import serve_with_workers

        await serve_with_workers(settings)
        return
    application = await create_application(settings, book=book)
    try:
        if not await reach_telegram(application.bot, settings.telegram_api_url):
            log.info("stopped")
        elif settings.webhook_url or settings.web_port is not None:
            # Imported only when served: polling without WEB_PORT never loads aiohttp's server.
            from bot.web import run_polling_with_web, serve_webhook

            if settings.webhook_url:
                await serve_webhook(application)
            else:
                await run_polling_with_web(application)
        else:
            await application.run_polling(handle_signals=True)
    finally:
        await application.close()


def _explain(key: str, locale: str, **values: str) -> int:
    with create_i18n(locale).context():
        print(tp(key, **values), file=sys.stderr)
    return EXIT_CONFIGURATION


if __name__ == "__main__":
    sys.exit(main())
