//! Jobs in the store.

use rusqlite::{params, OptionalExtension, Row};

use super::{path_from_bytes, path_to_bytes, Store, StoreError};
use crate::jobs::{now_ms, Job, JobId, JobState, SourceFile};
use crate::storage::ObjectRef;

impl Store {
    pub fn insert(&self, job: &Job) -> Result<(), StoreError> {
        let (state, failure) = encode_state(&job.state);
        self.conn().execute(
            "INSERT INTO jobs (id, source_path, source_size, source_mtime_ms, bucket, object_key,
                               created_ms, state, failure, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                job.id.to_string(),
                path_to_bytes(&job.source.path),
                job.source.size as i64,
                job.source.modified_ms,
                job.destination.bucket,
                job.destination.key,
                job.created_ms,
                state,
                failure,
                now_ms(),
            ],
        )?;
        Ok(())
    }

    pub fn set_state(&self, id: JobId, state: &JobState) -> Result<(), StoreError> {
        let (name, failure) = encode_state(state);
        self.conn().execute(
            "UPDATE jobs SET state = ?2, failure = ?3, updated_ms = ?4 WHERE id = ?1",
            params![id.to_string(), name, failure, now_ms()],
        )?;
        Ok(())
    }

    pub fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(&format!("{SELECT_JOB} WHERE id = ?1"), [id.to_string()], raw_job)
            .optional()?;
        row.map(decode_job).transpose()
    }

    /// All jobs, newest first.
    pub fn list(&self) -> Result<Vec<Job>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT_JOB} ORDER BY created_ms DESC, rowid DESC"))?;
        let rows = stmt.query_map([], raw_job)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(decode_job).collect()
    }
}

const SELECT_JOB: &str = "SELECT id, source_path, source_size, source_mtime_ms, bucket, object_key,
                                 created_ms, state, failure FROM jobs";

struct RawJob {
    id: String,
    source_path: Vec<u8>,
    source_size: i64,
    source_mtime_ms: i64,
    bucket: String,
    key: String,
    created_ms: i64,
    state: String,
    failure: Option<String>,
}

fn raw_job(row: &Row<'_>) -> rusqlite::Result<RawJob> {
    Ok(RawJob {
        id: row.get(0)?,
        source_path: row.get(1)?,
        source_size: row.get(2)?,
        source_mtime_ms: row.get(3)?,
        bucket: row.get(4)?,
        key: row.get(5)?,
        created_ms: row.get(6)?,
        state: row.get(7)?,
        failure: row.get(8)?,
    })
}

fn decode_job(raw: RawJob) -> Result<Job, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt { id: raw.id.clone(), what: what.to_owned() };
    let id = raw.id.parse::<JobId>().map_err(|_| corrupt("id is not a UUID"))?;
    let state = match (raw.state.as_str(), raw.failure) {
        ("queued", _) => JobState::Queued,
        ("uploading", _) => JobState::Uploading,
        ("paused", _) => JobState::Paused,
        ("uploaded", _) => JobState::Uploaded,
        ("cancelled", _) => JobState::Cancelled,
        ("failed", reason) => JobState::Failed { reason: reason.unwrap_or_else(|| "unknown failure".into()) },
        _ => return Err(corrupt("unknown state")),
    };
    Ok(Job {
        id,
        source: SourceFile {
            path: path_from_bytes(raw.source_path),
            size: u64::try_from(raw.source_size).map_err(|_| corrupt("negative size"))?,
            modified_ms: raw.source_mtime_ms,
        },
        destination: ObjectRef::new(raw.bucket, raw.key),
        created_ms: raw.created_ms,
        state,
    })
}

fn encode_state(state: &JobState) -> (&'static str, Option<&str>) {
    let failure = match state {
        JobState::Failed { reason } => Some(reason.as_str()),
        _ => None,
    };
    (state.name(), failure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use rusqlite::Connection;

    fn job(name: &str, created_ms: i64) -> Job {
        Job {
            id: JobId::new(),
            source: SourceFile { path: PathBuf::from(format!("/videos/{name}")), size: 42, modified_ms: 7 },
            destination: ObjectRef::new("uploads", format!("k/{name}")),
            created_ms,
            state: JobState::Queued,
        }
    }

    #[test]
    fn jobs_and_states_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        let (a, b) = (job("a.mov", 1), job("b é.mov", 2));
        {
            let store = Store::open(&path).unwrap();
            store.insert(&a).unwrap();
            store.insert(&b).unwrap();
            store.set_state(a.id, &JobState::Failed { reason: "disk on fire".into() }).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let jobs = store.list().unwrap();
        assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b.id, a.id], "newest first");
        assert_eq!(jobs[1].state, JobState::Failed { reason: "disk on fire".into() });
        assert_eq!(jobs[0], b);
        assert_eq!(store.get(a.id).unwrap().unwrap().source, a.source);
        assert!(store.get(JobId::new()).unwrap().is_none());
    }

    #[test]
    fn refuses_a_store_from_a_newer_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = Store::open(&path).err().expect("must refuse");
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    }
}
