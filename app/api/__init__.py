"""HTTP routers. Thin: parse, call a service, present. No SQL, no Docker here."""
