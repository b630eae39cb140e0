"""Pure-Python core of the Odoo Cloud Storage suite.

Nothing in this package imports odoo: the provider contract and its seven
implementations (``providers``), the sync planner (``engine``), the local protocol
servers used by tests and the demo (``emulators``) and the behavioural suite every
provider must pass (``conformance``).
"""
