"""Production runtime: the PostgreSQL-safe tracker store, the atomic Redis lock store, retention,
the operator report and the opt-in NLU export."""

import os

# SQLAlchemy 1.4 reads this once, when first imported: Rasa's tracker store module would otherwise
# print its "2.0 uber warning" in every command of this package (the launcher sets it too)
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
