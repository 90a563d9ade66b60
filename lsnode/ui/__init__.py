"""The Kivy app: shell, screens, view-models, design system, translations.

Nothing in this package imports Kivy at import of the package itself, and ``cli`` stays
Kivy-free until a command runs (``lsavto --help`` must not open a window). Layout:

- ``boot``        configure Kivy before its import; install fonts, kv globals, base widgets
- ``theme/``      design system: constants (``__init__``), running ``Theme`` (``style``), base
                  widgets (``widgets`` + ``base.kv``), Material Design Icons map (``icons``)
- ``i18n``        translations (ru default, en), ``_`` for kv, date / waiting-time formats
- ``context``     ``NodeContext``: store, sync agent on the runtime loop, change notices, claims
- ``shell``       view-models of the shell: nav, status bar, presence, popups, toasts
- ``app``         ``WorkstationApp`` and the shell's widgets (``app.kv``)
- ``screens/``    the screen registry; one module + one ``.kv`` per screen
- ``harness``     drive the real app frame by frame (tests, screenshots)
- ``screenshots`` ``lsavto screenshots``; ``cli`` adds ``app`` and ``screenshots`` to ``lsavto``
"""
