"""Use cases. Each public function takes a SQLAlchemy Session, does one transaction
(committing it when it writes), and raises ``evaluator_cert.errors`` for people to read."""
