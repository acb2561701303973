"""Custom actions of the foot-cramp assistant (run with `rasa run actions`).

One module per concern: settings (config), the article's knowledge (knowledge), choosing the topic
of a turn (topics), what earlier turns said (history), red-flag escalation (triage), knowledge
answers (answers), the low-confidence path (fallback), the guided cramp check (cramp_check and
its rules table, cramp_check_rules). rasa_sdk imports every module of this package and registers
each Action subclass it finds.
"""
