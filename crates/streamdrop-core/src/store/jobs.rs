//! Jobs in the store.

use rusqlite::{params, OptionalExtension, Row};

use super::{path_from_bytes, path_to_bytes, Store, StoreError};
use crate::credentials::ConnectionName;
use crate::jobs::{now_ms, Job, JobId, JobState, SourceFile, Stage, TranscodeRecord};
use crate::storage::ObjectRef;
use crate::transcode::MediaInfo;

impl Store {
    pub fn insert(&self, job: &Job) -> Result<(), StoreError> {
        let (state, stage, failure) = encode_state(&job.state);
        self.conn().execute(
            "INSERT INTO jobs (id, source_path, source_size, source_mtime_ms, bucket, object_key,
                               created_ms, state, stage, failure, updated_ms, connection)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                job.id.to_string(),
                path_to_bytes(&job.source.path),
                job.source.size as i64,
                job.source.modified_ms,
                job.destination.bucket,
                job.destination.key,
                job.created_ms,
                state,
                stage,
                failure,
                now_ms(),
                job.connection.as_str(),
            ],
        )?;
        Ok(())
    }

    pub fn set_state(&self, id: JobId, state: &JobState) -> Result<(), StoreError> {
        let (name, stage, failure) = encode_state(state);
        self.conn().execute(
            "UPDATE jobs SET state = ?2, stage = ?3, failure = ?4, updated_ms = ?5 WHERE id = ?1",
            params![id.to_string(), name, stage, failure, now_ms()],
        )?;
        Ok(())
    }

    /// Records what the transcode stage learned or started (or clears it, to start over).
    pub fn set_transcode(&self, id: JobId, record: &TranscodeRecord) -> Result<(), StoreError> {
        let media = record.media.as_ref().map(|m| serde_json::to_string(m).expect("MediaInfo serializes"));
        self.conn().execute(
            "UPDATE jobs SET media_info = ?2, backend_job_id = ?3, updated_ms = ?4 WHERE id = ?1",
            params![id.to_string(), media, record.backend_job_id, now_ms()],
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
                                 created_ms, state, stage, failure, media_info, backend_job_id, connection FROM jobs";

struct RawJob {
    id: String,
    source_path: Vec<u8>,
    source_size: i64,
    source_mtime_ms: i64,
    bucket: String,
    key: String,
    created_ms: i64,
    state: String,
    stage: Option<String>,
    failure: Option<String>,
    media_info: Option<String>,
    backend_job_id: Option<String>,
    connection: String,
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
        stage: row.get(8)?,
        failure: row.get(9)?,
        media_info: row.get(10)?,
        backend_job_id: row.get(11)?,
        connection: row.get(12)?,
    })
}

fn decode_job(raw: RawJob) -> Result<Job, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt { id: raw.id.clone(), what: what.to_owned() };
    let id = raw.id.parse::<JobId>().map_err(|_| corrupt("id is not a UUID"))?;
    let stage = || raw.stage.as_deref().and_then(Stage::parse).ok_or_else(|| corrupt("missing or unknown stage"));
    let state = match raw.state.as_str() {
        "queued" => JobState::Queued { stage: stage()? },
        "uploading" => JobState::Uploading,
        "paused" => JobState::Paused,
        "copying" => JobState::Copying,
        "transcoding" => JobState::Transcoding,
        "ready" => JobState::Ready,
        "failed" => JobState::Failed {
            stage: stage()?,
            reason: raw.failure.clone().unwrap_or_else(|| "unknown failure".into()),
        },
        "cancelled" => JobState::Cancelled,
        _ => return Err(corrupt("unknown state")),
    };
    let media = match &raw.media_info {
        Some(json) => Some(serde_json::from_str::<MediaInfo>(json).map_err(|_| corrupt("unreadable media info"))?),
        None => None,
    };
    let connection = ConnectionName::new(raw.connection.clone()).map_err(|_| corrupt("invalid connection name"))?;
    Ok(Job {
        id,
        connection,
        source: SourceFile {
            path: path_from_bytes(raw.source_path),
            size: u64::try_from(raw.source_size).map_err(|_| corrupt("negative size"))?,
            modified_ms: raw.source_mtime_ms,
        },
        destination: ObjectRef::new(raw.bucket, raw.key),
        created_ms: raw.created_ms,
        state,
        transcode: TranscodeRecord { media, backend_job_id: raw.backend_job_id },
    })
}

fn encode_state(state: &JobState) -> (&'static str, Option<&'static str>, Option<&str>) {
    let failure = match state {
        JobState::Failed { reason, .. } => Some(reason.as_str()),
        _ => None,
    };
    (state.name(), state.stage().map(Stage::name), failure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use rusqlite::Connection;

    fn job(name: &str, created_ms: i64) -> Job {
        Job {
            id: JobId::new(),
            connection: ConnectionName::local(),
            source: SourceFile { path: PathBuf::from(format!("/videos/{name}")), size: 42, modified_ms: 7 },
            destination: ObjectRef::new("uploads", format!("k/{name}")),
            created_ms,
            state: JobState::QUEUED,
            transcode: TranscodeRecord::default(),
        }
    }

    #[test]
    fn jobs_and_states_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        let (a, mut b) = (job("a.mov", 1), job("b é.mov", 2));
        b.connection = ConnectionName::new("Production AWS").unwrap();
        {
            let store = Store::open(&path).unwrap();
            store.insert(&a).unwrap();
            store.insert(&b).unwrap();
            store.set_state(a.id, &JobState::Failed { stage: Stage::Copy, reason: "disk on fire".into() }).unwrap();
            let media = MediaInfo { duration_secs: 2.5, video: None, has_audio: true };
            store.set_transcode(b.id, &TranscodeRecord { media: Some(media), backend_job_id: Some("local-1".into()) }).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let jobs = store.list().unwrap();
        assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b.id, a.id], "newest first");
        assert_eq!(jobs[1].state, JobState::Failed { stage: Stage::Copy, reason: "disk on fire".into() });
        assert_eq!(jobs[0].source, b.source);
        assert_eq!((jobs[0].connection.as_str(), jobs[1].connection.as_str()), ("Production AWS", "Local"));
        assert_eq!(jobs[0].transcode.backend_job_id.as_deref(), Some("local-1"));
        assert_eq!(jobs[0].transcode.media.as_ref().map(|m| m.duration_secs), Some(2.5));
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
