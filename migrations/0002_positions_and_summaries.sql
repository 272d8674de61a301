-- Explicit positions instead of engine row ids, and summaries kept up to date by the writer so
-- that the dashboard reads a few rows per query instead of one or more per run. The summaries
-- are derived from the tables of 0001 and filled by the store (harmonium-store `summaries.rs`)
-- whenever `store_meta.summaries_built` is 0: after this migration, and after rows are written
-- by other means.

-- Metric points get an explicit, increasing id: the position the live feed follows.
CREATE TABLE metrics_new (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL,          -- NULL when the value was NaN or infinite
    wall_time REAL NOT NULL
);
INSERT INTO metrics_new (id, run_id, key, step, value, wall_time)
    SELECT rowid, run_id, key, step, value, wall_time FROM metrics ORDER BY rowid;
DROP TABLE metrics;
ALTER TABLE metrics_new RENAME TO metrics;
CREATE INDEX metrics_by_run_key ON metrics(run_id, key, step);

-- Every distinct value of every parameter of an experiment (its id is what run_columns hold),
-- and how many runs have it.
CREATE TABLE param_values (
    id            INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    value_num     REAL,
    runs          INTEGER NOT NULL,
    UNIQUE (experiment_id, key, value)
);

-- Every metric an experiment's runs recorded, and its largest step.
CREATE TABLE metric_keys (
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    max_step      INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, key)
);

-- One running run's points of one metric in one row, in the order recorded: 16 bytes a point
-- (step as a little-endian i64, value as a little-endian f64, NaN for NULL). When the run ends,
-- its curves move into curve_chunks.
CREATE TABLE metric_curves (
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    experiment_id INTEGER NOT NULL,
    points        BLOB NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX metric_curves_by_key ON metric_curves(experiment_id, key, run_id);

-- The curves of ended runs, 32 consecutive run ids a row: segments of (run id as a
-- little-endian i64, points as a little-endian u32, the points as in metric_curves).
CREATE TABLE curve_chunks (
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    chunk         INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (experiment_id, key, chunk)
);

-- Columns of an experiment's runs, in chunks of 256 consecutive run ids: `status` (1 byte a
-- run: 0 none, 1 queued, 2 running, 3 finished, 4 failed, 5 killed), `param:KEY` (4 bytes: the
-- param_values id, 0 when the run lacks the param), `final:KEY` (8 bytes: the latest value as
-- a little-endian f64, NaN when missing or not a number).
CREATE TABLE run_columns (
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    chunk         INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (experiment_id, name, chunk)
);

-- Counters of the store: `revision` grows with every committed write (the dashboard's change
-- stamp); `summaries_built` says whether the tables above hold what the base tables say.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('revision', 0), ('summaries_built', 0);

-- Facts about this database as text: `artifact_folder`, the folder (below the artifacts folder)
-- its runs' artifacts are written to, named once when first needed so that two databases
-- beside each other never write into the same place.
CREATE TABLE store_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
