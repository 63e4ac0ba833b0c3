"""An ad burst over HTTP: N people fill the request form at once, against the real bot started
as its users start it, and against a bare aiogram echo bot under the same judge.

    python -m bench.burst [--leads 200] [--database sqlite|postgresql] [--rounds 1]
    python -m bench.burst --webhook [--instances 3] [--leads 500] [--rounds 2]

The judge is this process: the project's fake Bot API (tests/fake_telegram, every call checked
against the Bot API spec) on loopback HTTP, and the people. Each run starts a fresh bot process
(`python run_bot.py`, long polling, configured by its environment: BOT_TOKEN, TELEGRAM_API_URL,
DATABASE_URL, ADMIN_IDS, BACKUP_DIR, LOG_LEVEL=WARNING) on a fresh database; the admin invites
`--managers` managers through /invite and each follows the link; then, timed, every person
walks the form at once (`/start ads_vk`, the consent button, name, phone typed or shared,
company or "Пропустить", need as a product button or typed), sending the next update only when
the bot's answer to the previous one has arrived. The echo bot (bench/burst/echo_bot.py, its own
process, long polling) gets the same people and the same six updates each.

`--webhook` (implied by `--instances N` above 1): both bots take webhooks instead, N processes
of each behind a real nginx with deploy/nginx's site (TLS with a throwaway certificate, as
tests/e2e/nginx_cluster.py runs it); the fake Bot API delivers as Telegram does, one update at
a time per chat, at most 40 POSTs at once (setWebhook's default max_connections). The real bot
runs on PostgreSQL and Redis (`--redis-url`; its keys are under a prefix of the run's, deleted
after it), so the instances share Telegram's budget of messages a second; the echo bot answers
each POST once the update is handled, as the real bot does.

Checked afterwards: every lead was told "Заявка №N принята" exactly once, the database holds
exactly one deal per lead (the one they were told), every new-request card reached a manager
(once), the fake answered no call 4xx, and the bot's console (at WARNING) stayed empty: no
traceback, no "database is locked". Exit status: 0 if the targets are met, 1 if a speed target
is missed (judged at N=200 on SQLite only), 2 if anything failed or a check did not hold.

The parts: `common` (ids, steps, texts), `judge` (the fake Bot API with a hook per chat),
`people` (who the leads are and how they walk), `processes` (the bot processes, py-spy),
`database` (a fresh database, the deals it holds), `run` (one bot, one run, the checks),
`report` (the tables, the targets), `fleet` (one polling process, or N behind nginx),
`command` (the command line).
"""
