"""Privacy requests: models, the one transition table, statutory deadlines and the service."""
