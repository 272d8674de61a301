-- A running run's last sign of life (see the SQLite migration 0003).
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
