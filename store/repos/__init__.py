"""Store access for the API: functions over an open SQLAlchemy ``Connection``."""
