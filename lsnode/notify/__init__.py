"""Notifications (SPEC §3): channels, templates, rules, the outbox and the message journal.

catalog (types, placeholders, appointment states) · templates (safe rendering, SMS segments) ·
clock (time as an input) · store (the notify tables, writes through Writer) · rules (event and
scheduled generation, idempotent) · outbox (claim → deliver → record, at most once, never late,
consent at send time) · channels (apprise e-mail/SMS, file, FTP) · sealing (passwords sealed to
the hub's key) · appointments · admin (the screens' API) · service/hub (the hub's task) ·
demo (``install_demo``) · cli (``lsavto notify|appointment``). Errors are those of
``lsnode.errors`` (InputError, NotFound) and ``lsnode.sync.keys.SecretError``.
"""
