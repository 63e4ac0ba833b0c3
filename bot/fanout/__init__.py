"""Long polling over several processes (WORKERS > 1): one polls, the workers handle.

`poller` runs in the started process: it fetches the updates, hands each to the worker that
owns its person (`routing`), relays what one worker tells the others (`link`), and restarts a
worker that died. `worker` is each worker process: the whole bot of bot/app.py, fed updates
through a socket instead of polling itself."""
