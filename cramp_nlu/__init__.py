"""The foot-cramp assistant's own NLU: red-flag triage built on spaCy rule matchers."""
