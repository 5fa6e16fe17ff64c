//! The SQLite job store. Jobs survive restarts here; nothing secret is ever
//! written to it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::jobs::{now_ms, Job, JobId, JobState, SourceFile};
use crate::storage::ObjectRef;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the job store at {path} cannot be opened: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("the job store at {path} was written by a newer Streamdrop (schema {found}, this build knows {known}): update Streamdrop")]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error("job store error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the job store holds a corrupt row for job {id}: {what}")]
    Corrupt { id: String, what: String },
}

/// Each entry moves the schema one version up; never edit a shipped entry.
const MIGRATIONS: &[&str] = &["CREATE TABLE jobs (
        id TEXT PRIMARY KEY NOT NULL,
        source_path BLOB NOT NULL,
        source_size INTEGER NOT NULL,
        source_mtime_ms INTEGER NOT NULL,
        bucket TEXT NOT NULL,
        object_key TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'uploading', 'uploaded', 'failed')),
        failure TEXT,
        updated_ms INTEGER NOT NULL
    );
    CREATE INDEX jobs_by_created ON jobs (created_ms);"];

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_owned(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_err)?;
        migrate(&mut conn, path)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written, so the poison is harmless.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

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

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew { path: path.to_owned(), found: version, known });
    }
    let tx = conn.transaction()?;
    for sql in &MIGRATIONS[version as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
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
        ("uploaded", _) => JobState::Uploaded,
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

// Paths are stored as raw bytes: file names on Linux need not be UTF-8.
#[cfg(unix)]
fn path_to_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_to_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

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
