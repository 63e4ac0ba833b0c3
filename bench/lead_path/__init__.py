"""The lead path benchmark: the request form driven through the real dispatcher and SQLite as
fast as it goes, side by side with a bare aiogram echo bot on the same in-process fake session.

    python -m bench.lead_path [--leads 300] [--warmup 10] [--seed 1] [--rounds 1]

Each bot runs in a fresh interpreter (a subprocess of this command, `--worker echo|lead`), so
imports, caches and the process's max RSS of one do not leak into the other. A worker:

1. builds its bot: for the lead path the real `create_application` (every middleware, the
   database FSM storage, a fresh SQLite file with migrations applied, the bundled sales book,
   one active manager enrolled through an invite, the startup hook run); for the echo bot a bare
   `Dispatcher()` with one handler that answers the text back;
2. swaps the bot's HTTP session for `FakeSession`, which serialises every request the way the
   aiohttp session does and parses a Telegram-shaped JSON answer the way it does, minus the
   network;
3. feeds `--warmup` leads unmeasured, then `--leads` leads timed, one update after another
   (`Update.model_validate` + `Dispatcher.feed_update`, per update `perf_counter_ns`), then
   `--leads` more with `tracemalloc` on, for the peak memory only;
4. checks the path worked: every lead got "Заявка №N принята", the manager got every card,
   and the database holds exactly one deal per lead.

A lead is six updates: `/start ads_vk`, the consent button, name, phone (typed or a shared
contact), company (or "Пропустить"), need (a product button or free text). The echo bot gets
the same six texts per user. Exit status: 0 if the targets are met, 1 if not, 2 if a worker
failed (including a failed check).

The parts: `common` (the fixed world), `fake_session` (Telegram in-process), `people` (what the
leads type), `driver` (feeding updates, timing them), `bots` (the echo baseline and the real
bot), `worker` (one bot in one process), `report` (the table and the targets), `command` (the
command line: both workers, the table).
"""
