//! Group commit for the runner: its tasks hand their status changes to one journal thread,
//! which commits everything that queued up while it was writing in a single transaction and
//! then answers each task. A task still waits for its own change to be on disk before it goes
//! on (an operation is `in_flight` before its request leaves, `done` before its merchant's next
//! operation starts), but sixteen operations in flight share one commit instead of paying one
//! each, and no runtime thread ever blocks on SQLite.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::error::{BulkError, Result};
use crate::journal::{Change, Journal};

/// Changes committed together at most (a bound on one transaction, not a wait: the writer
/// never holds a change back to fill a batch).
const MAX_BATCH: usize = 1024;

struct Queued {
    changes: Vec<Change>,
    committed: oneshot::Sender<Result<()>>,
}

/// The sending side; the journal thread ends when it is dropped (after the batch it is
/// writing, if any).
pub(crate) struct Committer {
    queue: mpsc::Sender<Queued>,
}

impl Committer {
    /// Starts the journal thread for `journal`.
    pub(crate) fn start(journal: Journal) -> Result<Committer> {
        let (queue, incoming) = mpsc::channel();
        std::thread::Builder::new()
            .name("goldplan-journal".into())
            .spawn(move || write_batches(&journal, &incoming))
            .map_err(|e| BulkError::Internal(format!("cannot start the journal thread: {e}")))?;
        Ok(Committer { queue })
    }

    /// Returns once `changes` are committed (in one transaction, perhaps with others').
    pub(crate) async fn commit(&self, changes: Vec<Change>) -> Result<()> {
        let (committed, answer) = oneshot::channel();
        self.queue
            .send(Queued { changes, committed })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> BulkError {
    BulkError::Internal("the journal thread stopped".into())
}

fn write_batches(journal: &Journal, incoming: &mpsc::Receiver<Queued>) {
    while let Ok(first) = incoming.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let mut changes = Vec::with_capacity(batch.len() * 2);
        let mut waiting = Vec::with_capacity(batch.len());
        for queued in batch {
            changes.extend(queued.changes);
            waiting.push(queued.committed);
        }
        let outcome = journal.apply(&changes);
        for committed in waiting {
            // A task that was aborted meanwhile no longer listens; its change is on disk
            // anyway, which is what a crash at that moment would have left too.
            let _ = committed.send(match &outcome {
                Ok(()) => Ok(()),
                Err(e) => Err(BulkError::Journal {
                    path: journal.path().display().to_string(),
                    message: format!("a status change could not be committed: {e}"),
                }),
            });
        }
    }
}
