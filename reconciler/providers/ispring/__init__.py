"""iSpring Learn (SOAP): provider, envelope, records, batching, auth."""
