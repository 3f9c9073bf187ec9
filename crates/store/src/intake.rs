//! Group commit for new cases on SQLite: one writer task takes every intake that arrives while the previous batch
//! commits and stores them together in one transaction, then answers each caller after that commit.
//!
//! SQLite has a single writer. Concurrent intakes each in their own transaction queue on its lock, and a blocked
//! writer waits in SQLite's busy handler, which sleeps in steps of up to 100 ms: under load the latency tail is those
//! sleeps, not the work. One writer never waits for the lock held by another intake, and a batch costs one commit
//! instead of one per case. Durability is unchanged: a caller is answered only after the transaction holding its
//! case commits. If a batch fails, its cases are retried one transaction each, so one bad case fails alone.

use domain::CaseId;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::accounts::insert_access_in;
use crate::cases::{CheckedCase, insert_cases_in};
use crate::{CaseAccessRow, StoreError};

/// The most cases one transaction takes; more waiting go in the next.
const MAX_BATCH: usize = 256;

struct Job {
    /// The case, its log already checked against the rules by the caller's task.
    checked: CheckedCase,
    access: CaseAccessRow,
    done: oneshot::Sender<Result<CaseId, StoreError>>,
}

/// The handle callers send their intakes through; the writer task ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct IntakeWriter {
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl IntakeWriter {
    /// Starts the writer task on the current tokio runtime.
    pub(crate) fn start(pool: AnyPool) -> IntakeWriter {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
                write_batch(&pool, std::mem::take(&mut batch)).await;
                batch.reserve(MAX_BATCH);
            }
        });
        IntakeWriter { jobs }
    }

    /// Stores one case with its access facts; returns after the transaction holding it commits.
    pub(crate) async fn insert(&self, checked: CheckedCase, access: &CaseAccessRow) -> Result<CaseId, StoreError> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            checked,
            access: access.clone(),
            done,
        };
        let stopped = || StoreError::Corrupt("the intake writer has stopped".into());
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write_batch(pool: &AnyPool, jobs: Vec<Job>) {
    match insert_all(pool, &jobs).await {
        Ok(ids) => {
            for (job, id) in jobs.into_iter().zip(ids) {
                // A caller that went away (a dropped request) no longer needs the answer; its case is stored.
                let _ = job.done.send(Ok(id));
            }
        }
        Err(e) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.done.send(Err(e));
            }
        }
        Err(_) => {
            for job in jobs {
                let result = insert_all(pool, std::slice::from_ref(&job)).await;
                let _ = job
                    .done
                    .send(result.and_then(|ids| ids.first().copied().ok_or_else(no_id)));
            }
        }
    }
}

fn no_id() -> StoreError {
    StoreError::Corrupt("insert returned no id".into())
}

/// Every job's case and access facts in one transaction; the ids in job order.
async fn insert_all(pool: &AnyPool, jobs: &[Job]) -> Result<Vec<CaseId>, StoreError> {
    let mut tx = pool.begin().await?;
    let checked: Vec<&CheckedCase> = jobs.iter().map(|j| &j.checked).collect();
    let ids = insert_cases_in(&mut tx, &checked).await?;
    if ids.len() != jobs.len() {
        return Err(no_id());
    }
    let rows: Vec<(CaseId, &CaseAccessRow)> = ids.iter().copied().zip(jobs.iter().map(|j| &j.access)).collect();
    insert_access_in(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(ids)
}
