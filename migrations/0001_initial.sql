-- Experiments, runs and everything they record.
CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    yaml        TEXT NOT NULL,
    metric      TEXT,
    goal        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    trial_index   INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'killed')),
    config_json   TEXT NOT NULL,
    config_hash   TEXT NOT NULL,
    seed          INTEGER NOT NULL,
    git_commit    TEXT,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    error         TEXT
);
CREATE INDEX runs_by_experiment ON runs(experiment_id, status);
CREATE INDEX runs_by_hash ON runs(config_hash, status);

CREATE TABLE params (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    value_num REAL,
    PRIMARY KEY (run_id, key)
);

CREATE TABLE metrics (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL,          -- NULL when the value was NaN or infinite
    wall_time REAL NOT NULL
);
CREATE INDEX metrics_by_run_key ON metrics(run_id, key, step);

CREATE TABLE latest_metrics (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL,          -- NULL when the value was NaN or infinite
    wall_time REAL NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    path       TEXT NOT NULL,
    step       INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX artifacts_by_run ON artifacts(run_id);
