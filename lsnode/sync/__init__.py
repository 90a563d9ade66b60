"""Offline-first sync between nodes and the hub (issue «Offline-first sync»): not built yet.

Planned modules (ARCHITECTURE.md): ``protocol`` (sans-I/O session), ``messages``, ``hlc``,
``merge``, ``client`` (websockets), ``discovery`` (zeroconf), ``pairing``. The store's
``changes.ChangeCapture`` hook is where sync stamps versions on every local write.
"""
