//! The single writer: every row produced by training goes through one task, which batches
//! pending writes into one transaction. Training threads hold a cheap [`WriterHandle`].

use sqlx::{Any, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::{Result, Store, StoreError, now, summaries};

/// Everything needed to create a run row.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub experiment_id: i64,
    pub trial_index: i64,
    pub config_json: String,
    pub config_hash: String,
    pub seed: i64,
    pub git_commit: Option<String>,
    pub host: String,
    /// Flattened parameters: dotted key → value as JSON text.
    pub params: Vec<(String, serde_json::Value)>,
}

enum Msg {
    Experiment {
        name: String,
        description: String,
        yaml: String,
        metric: Option<String>,
        goal: Option<String>,
        reply: oneshot::Sender<Result<i64>>,
    },
    CreateRun {
        run: NewRun,
        reply: oneshot::Sender<Result<i64>>,
    },
    Claim {
        run: NewRun,
        rerun: bool,
        reply: oneshot::Sender<Result<Option<Claimed>>>,
    },
    Start {
        run_id: i64,
    },
    Heartbeat {
        run_ids: Vec<i64>,
    },
    Metric {
        run_id: i64,
        key: String,
        step: i64,
        value: f64,
        wall_time: f64,
    },
    Artifact {
        run_id: i64,
        kind: String,
        path: String,
        step: Option<i64>,
    },
    Finish {
        run_id: i64,
        status: &'static str,
        error: Option<String>,
    },
    Flush {
        reply: oneshot::Sender<Result<()>>,
    },
}

/// A handle to the writer task; clone it freely, use it from any thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::UnboundedSender<Msg>,
}

/// The writer task itself. Dropping every handle lets it finish; `join` waits for that.
pub struct Writer {
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Store) -> (Writer, WriterHandle) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(store, rx));
        (Writer { task }, WriterHandle { tx })
    }

    /// Waits until every handle is dropped and all pending writes are committed.
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

fn blocking<T>(rx: oneshot::Receiver<Result<T>>) -> Result<T> {
    rx.blocking_recv().map_err(|_| StoreError::WriterGone)?
}

impl WriterHandle {
    fn send(&self, m: Msg) -> Result<()> {
        self.tx.send(m).map_err(|_| StoreError::WriterGone)
    }

    /// Creates or updates the experiment row (keyed by name); returns its id.
    pub async fn experiment(
        &self,
        name: &str,
        description: &str,
        yaml: &str,
        metric: Option<String>,
        goal: Option<String>,
    ) -> Result<i64> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Experiment {
            name: name.into(),
            description: description.into(),
            yaml: yaml.into(),
            metric,
            goal,
            reply,
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Creates a `queued` run with its params; blocks the calling (non-async) thread for the id.
    pub fn create_run_blocking(&self, run: NewRun) -> Result<i64> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::CreateRun { run, reply })?;
        blocking(rx)
    }

    pub async fn create_run(&self, run: NewRun) -> Result<i64> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::CreateRun { run, reply })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Claims a trial for this process: creates its run, already `running`, unless a run with
    /// the same experiment and config hash is running or queued in a live process (or, unless
    /// `rerun`, finished); then `None`. Check and insert are one statement, so of several
    /// processes sharing a sweep (one database) exactly one gets each trial. Runs of the same
    /// trial left by dead processes on this host are first marked killed, so their trial is
    /// taken over. Blocks the calling (non-async) thread for the answer.
    /// The claim also says which earlier run of the same trial was killed last, if any (the
    /// one a resumed trial continues).
    pub fn claim_blocking(&self, run: NewRun, rerun: bool) -> Result<Option<Claimed>> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Claim { run, rerun, reply })?;
        blocking(rx)
    }

    /// Records that this process is still running these runs ([`crate::lease`]).
    pub fn heartbeat(&self, run_ids: Vec<i64>) -> Result<()> {
        self.send(Msg::Heartbeat { run_ids })
    }

    pub fn start(&self, run_id: i64) -> Result<()> {
        self.send(Msg::Start { run_id })
    }

    /// Records a metric point; a non-finite value is stored as NULL.
    pub fn metric(
        &self,
        run_id: i64,
        key: &str,
        step: i64,
        value: f64,
        wall_time: f64,
    ) -> Result<()> {
        self.send(Msg::Metric {
            run_id,
            key: key.into(),
            step,
            value,
            wall_time,
        })
    }

    pub fn artifact(&self, run_id: i64, kind: &str, path: &str, step: Option<i64>) -> Result<()> {
        self.send(Msg::Artifact {
            run_id,
            kind: kind.into(),
            path: path.into(),
            step,
        })
    }

    /// Ends a run: `finished`, `failed` or `killed`.
    pub fn finish(&self, run_id: i64, status: &'static str, error: Option<String>) -> Result<()> {
        debug_assert!(matches!(status, "finished" | "failed" | "killed"));
        self.send(Msg::Finish {
            run_id,
            status,
            error,
        })
    }

    /// Waits until everything sent before this call is committed.
    pub fn flush_blocking(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Flush { reply })?;
        blocking(rx)
    }

    pub async fn flush(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Flush { reply })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run(store: Store, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 4096).await > 0 {
        // Answers are sent after the commit, so an answer always means "it is on disk". Each
        // message runs in its own savepoint: one bad write is reported and rolled back alone.
        let mut replies: Vec<Reply> = Vec::new();
        let result = async {
            // IMMEDIATE: the write lock is taken (waiting for other processes' writers) before
            // anything is read, so a claim's check and insert see the latest runs.
            let mut tx = match store.engine {
                crate::Engine::Sqlite => store.pool.begin_with("BEGIN IMMEDIATE").await?,
                crate::Engine::Postgres => {
                    let mut tx = store.pool.begin().await?;
                    sqlx::query(crate::postgres::WRITE_LOCK)
                        .execute(&mut *tx)
                        .await?;
                    tx
                }
            };
            for m in batch.drain(..) {
                let mut sp = sqlx::Acquire::begin(&mut *tx).await?;
                match apply(&mut sp, m, &mut replies).await {
                    Ok(()) => sp.commit().await?,
                    Err(e) => {
                        eprintln!("harmonium: database write failed and was rolled back: {e}");
                        sp.rollback().await?;
                    }
                }
            }
            crate::feed::bump_revision(&mut *tx).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        }
        .await;
        if let Err(e) = &result {
            eprintln!("harmonium: database commit failed: {e}");
        }
        let err = result.err().map(|e| e.to_string());
        for r in replies {
            r(err.as_deref());
        }
    }
}

type Reply = Box<dyn FnOnce(Option<&str>) + Send>;

fn answer<T>(e: Option<&str>, ok: T) -> Result<T> {
    match e {
        None => Ok(ok),
        Some(e) => Err(StoreError::Message(format!("write not committed: {e}"))),
    }
}

/// Runs `q`; on error answers `reply` with the error too, so the caller is not left waiting.
async fn or_answer<T, F>(
    q: F,
    reply: oneshot::Sender<Result<i64>>,
) -> Result<(T, oneshot::Sender<Result<i64>>)>
where
    F: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    match q.await {
        Ok(v) => Ok((v, reply)),
        Err(e) => {
            let _ = reply.send(Err(StoreError::Message(e.to_string())));
            Err(e.into())
        }
    }
}

/// A trial claimed by [`WriterHandle::claim_blocking`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    /// The new run, already `running`.
    pub id: i64,
    /// The latest earlier run of the same trial that was killed (by a stop, a signal, or a
    /// process that died) after its last finished or failed run, if any.
    pub killed_before: Option<i64>,
}

/// The claim of [`WriterHandle::claim_blocking`] inside the writer's transaction.
async fn claim(
    tx: &mut Transaction<'_, Any>,
    run: &NewRun,
    rerun: bool,
) -> Result<Option<Claimed>> {
    let open: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, pid FROM runs WHERE experiment_id = $1 AND config_hash = $2 \
         AND status IN ('running', 'queued') AND host = $3",
    )
    .bind(run.experiment_id)
    .bind(&run.config_hash)
    .bind(&run.host)
    .fetch_all(&mut **tx)
    .await?;
    for (id, pid) in open {
        if !crate::process_alive(pid) {
            crate::mark_orphan_killed(tx, id).await?;
        }
    }
    // …and runs of it on any host whose process has not been heard from for a lease.
    let stale: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM runs WHERE experiment_id = $1 AND config_hash = $2 \
         AND status IN ('running', 'queued') AND heartbeat_at < $3",
    )
    .bind(run.experiment_id)
    .bind(&run.config_hash)
    .bind(crate::lease::expired_before())
    .fetch_all(&mut **tx)
    .await?;
    for id in stale {
        crate::lease::mark_expired(tx, id).await?;
    }
    let t = now();
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO runs (experiment_id, trial_index, status, config_json, config_hash, seed, \
         git_commit, host, pid, created_at, started_at, heartbeat_at) \
         SELECT $1, $2, 'running', $3, $4, $5, $6, $7, $8, $9, $10, $11 WHERE NOT EXISTS (SELECT 1 FROM runs \
         WHERE experiment_id = $12 AND config_hash = $13 \
         AND (status IN ('running', 'queued') OR (status = 'finished' AND NOT $14))) RETURNING id",
    )
    .bind(run.experiment_id)
    .bind(run.trial_index)
    .bind(&run.config_json)
    .bind(&run.config_hash)
    .bind(run.seed)
    .bind(&run.git_commit)
    .bind(&run.host)
    .bind(std::process::id() as i64)
    .bind(&t)
    .bind(&t)
    .bind(&t)
    .bind(run.experiment_id)
    .bind(&run.config_hash)
    .bind(rerun)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    let params = insert_params(tx, id, &run.params).await?;
    summaries::on_create_run(&mut **tx, run.experiment_id, id, &params).await?;
    summaries::on_status(&mut **tx, id, "running").await?;
    let killed_before: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(id) FROM runs WHERE experiment_id = $1 AND config_hash = $2 \
         AND status = 'killed' AND id < $3 AND id > COALESCE((SELECT MAX(id) FROM runs \
         WHERE experiment_id = $4 AND config_hash = $5 AND status IN ('finished', 'failed')), 0)",
    )
    .bind(run.experiment_id)
    .bind(&run.config_hash)
    .bind(id)
    .bind(run.experiment_id)
    .bind(&run.config_hash)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some(Claimed { id, killed_before }))
}

/// A run's params as rows (text, and a number where the value is one); returns them as the
/// summaries take them.
async fn insert_params(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    values: &[(String, serde_json::Value)],
) -> Result<Vec<(String, String, Option<f64>)>> {
    let mut params = Vec::with_capacity(values.len());
    for (k, v) in values {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let num = match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::Bool(b) => Some(*b as i64 as f64),
            _ => None,
        };
        sqlx::query("INSERT INTO params (run_id, key, value, value_num) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(k)
            .bind(&text)
            .bind(num)
            .execute(&mut **tx)
            .await?;
        params.push((k.clone(), text, num));
    }
    Ok(params)
}

async fn apply(tx: &mut Transaction<'_, Any>, m: Msg, replies: &mut Vec<Reply>) -> Result<()> {
    match m {
        Msg::Experiment {
            name,
            description,
            yaml,
            metric,
            goal,
            reply,
        } => {
            let t = now();
            let (id, reply): (i64, _) = or_answer(sqlx::query_scalar(
                "INSERT INTO experiments (name, description, yaml, metric, goal, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT(name) DO UPDATE SET description = excluded.description, yaml = excluded.yaml, \
                 metric = excluded.metric, goal = excluded.goal, updated_at = excluded.updated_at RETURNING id",
            )
            .bind(&name).bind(&description).bind(&yaml).bind(&metric).bind(&goal).bind(&t).bind(&t)
            .fetch_one(&mut **tx), reply)
            .await?;
            replies.push(Box::new(move |e| {
                let _ = reply.send(answer(e, id));
            }));
        }
        Msg::CreateRun { run, reply } => {
            let (id, reply): (i64, _) = or_answer(sqlx::query_scalar(
                "INSERT INTO runs (experiment_id, trial_index, status, config_json, config_hash, seed, \
                 git_commit, host, pid, created_at) VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(run.experiment_id).bind(run.trial_index).bind(&run.config_json).bind(&run.config_hash)
            .bind(run.seed).bind(&run.git_commit).bind(&run.host).bind(std::process::id() as i64).bind(now())
            .fetch_one(&mut **tx), reply)
            .await?;
            let params = insert_params(tx, id, &run.params).await?;
            summaries::on_create_run(&mut **tx, run.experiment_id, id, &params).await?;
            replies.push(Box::new(move |e| {
                let _ = reply.send(answer(e, id));
            }));
        }
        Msg::Claim { run, rerun, reply } => match claim(tx, &run, rerun).await {
            Ok(id) => replies.push(Box::new(move |e| {
                let _ = reply.send(answer(e, id));
            })),
            Err(e) => {
                let _ = reply.send(Err(StoreError::Message(e.to_string())));
                return Err(e);
            }
        },
        Msg::Heartbeat { run_ids } => {
            for id in run_ids {
                sqlx::query(
                    "UPDATE runs SET heartbeat_at = $1 WHERE id = $2 AND status IN ('running', 'queued')",
                )
                .bind(now())
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
        }
        Msg::Start { run_id } => {
            sqlx::query(
                "UPDATE runs SET status = 'running', started_at = $1, pid = $2 WHERE id = $3",
            )
            .bind(now())
            .bind(std::process::id() as i64)
            .bind(run_id)
            .execute(&mut **tx)
            .await?;
            summaries::on_status(&mut **tx, run_id, "running").await?;
        }
        Msg::Metric {
            run_id,
            key,
            step,
            value,
            wall_time,
        } => {
            let v = value.is_finite().then_some(value);
            sqlx::query(
                "INSERT INTO metrics (run_id, key, step, value, wall_time) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(run_id)
            .bind(&key)
            .bind(step)
            .bind(v)
            .bind(wall_time)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO latest_metrics (run_id, key, step, value, wall_time) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT(run_id, key) DO UPDATE SET step = excluded.step, value = excluded.value, \
                 wall_time = excluded.wall_time",
            )
            .bind(run_id).bind(&key).bind(step).bind(v).bind(wall_time)
            .execute(&mut **tx)
            .await?;
            summaries::on_metric(&mut **tx, run_id, &key, step, v).await?;
        }
        Msg::Artifact {
            run_id,
            kind,
            path,
            step,
        } => {
            sqlx::query("INSERT INTO artifacts (run_id, kind, path, step, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(run_id).bind(kind).bind(path).bind(step).bind(now())
                .execute(&mut **tx)
                .await?;
        }
        Msg::Finish {
            run_id,
            status,
            error,
        } => {
            sqlx::query("UPDATE runs SET status = $1, finished_at = $2, error = $3 WHERE id = $4")
                .bind(status)
                .bind(now())
                .bind(error)
                .bind(run_id)
                .execute(&mut **tx)
                .await?;
            summaries::on_status(&mut **tx, run_id, status).await?;
        }
        Msg::Flush { reply } => {
            replies.push(Box::new(move |e| {
                let _ = reply.send(answer(e, ()));
            }));
        }
    }
    Ok(())
}
