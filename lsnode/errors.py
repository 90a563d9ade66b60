"""The one error root of LSAvto Node.

::

    LsnodeError
    ├── InputError          bad input from a person or a peer: say what and how to fix
    │   └── QueryError      a search string that cannot be searched
    ├── NotFound            a record, a data dir or a file that is not there
    ├── DataDirError        a data dir that is missing, not initialised or from a newer schema
    └── StoreError          the local database refused (locked, corrupt, full disk): a local fault

Every error carries a one-line, human message (``str(err)``) fit for a status bar or the CLI; the
CLI prints it without a traceback and exits non-zero.
"""


class LsnodeError(Exception):
    """Root of every error this package raises on purpose."""


class InputError(LsnodeError, ValueError):
    """The input given by a person or a peer is not acceptable; nothing was changed."""


class QueryError(InputError):
    """A search string that cannot be searched (empty, too long, control characters …)."""


class NotFound(LsnodeError, LookupError):
    """The record asked for does not exist (or is deleted)."""


class DataDirError(LsnodeError):
    """The data directory is missing, not initialised, or written by a newer version."""


class StoreError(LsnodeError):
    """The local store failed for a reason that is not the caller's input."""
