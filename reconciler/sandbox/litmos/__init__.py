"""The Litmos emulator (REST over WSGI)."""
