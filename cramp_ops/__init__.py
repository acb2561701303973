"""Production runtime: the PostgreSQL-safe tracker store, the atomic Redis lock store, retention."""
