-- A running run's last sign of life, written every few seconds by the process running it: a
-- run whose heartbeat is older than the lease is taken over by the next claim of its trial,
-- whichever host it ran on. NULL for runs written before heartbeats existed (never taken over
-- on that ground).
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
