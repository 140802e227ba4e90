"""Built-in emulators of the iSpring Learn (SOAP) and Litmos (REST) APIs, over SQLite.

Written from the vendor documentation, not from our clients: nothing here imports `reconciler.providers`.
"""
