"""The hub process: sync server, master store, scheduler, SIP line (issue «Offline-first sync»).

Not built yet; it will reuse ``lsnode.*`` for all logic.
"""
