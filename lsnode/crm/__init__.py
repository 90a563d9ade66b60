"""The domain: the dealership's records and use cases, in its own language.

Pure by design: it imports the standard library, ``phonenumbers`` and ``lsnode.store.ports``
(typing protocols) only — never SQLite, Kivy, websockets, zeroconf, pyVoIP, apprise or reportlab
(``tests/test_layering.py`` checks this in a fresh interpreter).

- ``normalize``: phones (E.164), plates (look-alike letters folded), VINs, names
- ``clients``: add / edit / delete / show a counterparty with contacts and a car
- ``search``: the one search box over names, phones, plates and VINs
- ``demo``: a believable demo dealership, deterministic by seed
"""
