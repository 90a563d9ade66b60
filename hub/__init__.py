"""The hub process (one per dealership site): ``lsavto hub``.

- ``server``: websockets + TLS in front of the master store, live fan-out, snapshots, checkpoints,
  tombstone expiry, revocation, zeroconf advertisement
- ``backup``: the supervised ``litestream replicate`` and ``restore``

All domain and sync logic comes from ``lsnode``; the scheduler (notifications, auto-ignore) and the
SIP line join here with their issues.
"""
