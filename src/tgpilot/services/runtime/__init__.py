"""``tgpilot run``: one long-running process for the account, hosting every handler.

The account session can serve one process at a time (DESIGN "The account session"),
so every long-running feature lives here, as a handler of one host:

- :mod:`.handler` — the interfaces: a :class:`~.handler.MessageHandler` sees new (and
  edited) messages; a :class:`~.handler.BackgroundService` runs beside them (the draft
  courier; later the Linear listener's polling or the MCP server);
- :mod:`.dispatcher` — one queue and worker per handler: a failing handler is logged,
  counted and skipped, the others go on; cursors move after each message;
- :mod:`.cursors` — the newest message id each handler handled per chat, in the store;
- :mod:`.feed` — the account feed: catch up by id after every (re)connect, then follow
  pushed updates, reconnecting forever with back-off;
- :mod:`.watches` — ``moderate watch`` and ``export --watch`` as hosted handlers;
- :mod:`.metrics`, :mod:`.health` — Prometheus metrics and ``/healthz`` on loopback;
- :mod:`.systemd` — the unit ``tgpilot run --print-systemd-unit`` prints;
- :mod:`.host` — the process: start, serve, shut down cleanly on SIGTERM/SIGINT.

The auto-responder (:mod:`tgpilot.services.autoanswer`) is the first tenant.
"""
