"""The iSpring Learn emulator (SOAP over WSGI)."""
