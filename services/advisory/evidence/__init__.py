"""An advisory's evidence: its deliveries' events as a hash chain, its head signed (Ed25519).

`chain` makes and checks the export (pure), `keys` holds Anshin's signing key.
"""
