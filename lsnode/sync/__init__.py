"""Offline-first sync between nodes and the hub (ARCHITECTURE.md «Sync rules», «Trust»).

- ``hlc``: hybrid logical clock versions, one sortable string ``ms|counter|site``
- ``merge``: row states — per-column last-writer-wins, causal-length existence — and their join
- ``messages``: the protocol's frozen messages and their validating JSON codec
- ``protocol``: the sans-I/O ``NodeSession`` / ``HubSession`` and their storage ports
- ``stores``: those ports over SQLite (``lsnode.store.replica``), intents, the trust adapter
- ``client``: the node agent (websockets + pinned TLS, backoff with full jitter, snapshots)
- ``discovery``: zeroconf advertise / browse of ``_lsavto._tcp`` (where, never whom to trust)
- ``keys``, ``pairing``: sealed secrets, the hub certificate, one-time codes, node credentials

``hlc``, ``merge``, ``messages`` and ``protocol`` import no I/O library (checked by
``tests/test_layering.py``); the store's write path records every change for sync in the same
transaction as the change (``lsnode.store.changes``).
"""
