//! Pause, resume, cancel and retry, against the real embedded S3 server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use streamdrop_core::engine::{EngineError, EngineOptions};
use streamdrop_core::local::LocalStackOptions;
use streamdrop_core::transfer::TransferOptions;
use streamdrop_core::{DataDir, Engine, JobId, JobView, LocalStack, ObjectRef};

const MIB: u64 = 1024 * 1024;

struct Fixture {
    _tmp: tempfile::TempDir,
    data: DataDir,
    stack: LocalStack,
    engine: Engine,
    clip: PathBuf,
}

/// An engine uploading one part at a time at 10 MB/s, so there is time to act mid-upload.
async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path().join("data")).unwrap();
    let stack = LocalStack::start(&data, LocalStackOptions::default()).await.unwrap();
    let options = EngineOptions {
        upload_concurrency: 2,
        transfer: TransferOptions {
            part_size: 5 * MIB,
            multipart_threshold: 5 * MIB,
            concurrency: 1,
            bandwidth_limit: Some(10_000_000),
            ..TransferOptions::default()
        },
        poll_interval: Duration::from_millis(200),
    };
    let engine = stack.start_engine(&data, options).unwrap();
    let clip = tmp.path().join("B002 wide.mov");
    let bytes: Vec<u8> = (0..30 * MIB).map(|i| (i * 17 % 253) as u8).collect();
    std::fs::write(&clip, bytes).unwrap();
    Fixture { _tmp: tmp, data, stack, engine, clip }
}

async fn wait_for(engine: &Engine, id: JobId, what: &str, done: impl Fn(&JobView) -> bool) -> JobView {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = engine.job(id).unwrap();
        if done(&view) {
            return view;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}: {view:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sha256(path: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

/// Multipart parts s3s-fs holds for uploads not yet completed or aborted.
fn pending_part_files(data: &DataDir) -> usize {
    std::fs::read_dir(data.local_storage_root())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".upload_id-"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_keeps_what_was_sent_and_resume_sends_only_the_rest() {
    let fx = fixture().await;
    let id = fx.engine.add_paths([fx.clip.clone()]).accepted[0].id;
    wait_for(&fx.engine, id, "the first parts", |v| v.bytes_done >= 10 * MIB).await;

    let paused = fx.engine.pause(id).unwrap();
    assert_eq!(paused.state, "paused");
    let kept = paused.bytes_done;
    assert!(kept >= 5 * MIB && kept % (5 * MIB) == 0, "paused with whole parts journalled: {paused:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let still = fx.engine.job(id).unwrap();
    assert_eq!((still.state.as_str(), still.bytes_done), ("paused", kept), "nothing moves while paused");

    assert_eq!(fx.engine.resume(id).unwrap().state, "queued");
    // Past the upload stage: the bytes are complete (the file is not media, so the transcode fails).
    let done = wait_for(&fx.engine, id, "the upload", |v| v.state == "failed").await;
    assert_eq!(done.stage, Some(streamdrop_core::Stage::Transcode), "{done:?}");
    let object: ObjectRef = done.destination.parse().unwrap();
    let stored = fx.data.local_storage_root().join(&object.bucket).join(&object.key);
    assert_eq!(sha256(&stored), sha256(&fx.clip));
    assert_eq!(pending_part_files(&fx.data), 0);

    let err = fx.engine.pause(id).unwrap_err();
    assert!(matches!(err, EngineError::NotNow { .. }), "{err}");
    assert_eq!(err.to_string(), "the job is failed, so it cannot be paused");
    fx.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_leaves_nothing_behind_and_retry_starts_again() {
    let fx = fixture().await;
    let id = fx.engine.add_paths([fx.clip.clone()]).accepted[0].id;
    wait_for(&fx.engine, id, "the first part", |v| v.bytes_done >= 5 * MIB).await;
    assert!(pending_part_files(&fx.data) > 0, "parts are on the server mid-upload");

    assert_eq!(fx.engine.cancel(id).unwrap().state, "cancelled");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while pending_part_files(&fx.data) > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the multipart upload was not aborted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let job = fx.engine.job(id).unwrap();
    assert_eq!(job.state, "cancelled");
    let object: ObjectRef = job.destination.parse().unwrap();
    assert!(!fx.data.local_storage_root().join(&object.bucket).join(&object.key).exists());

    assert_eq!(fx.engine.retry(id).unwrap().state, "queued");
    let done = wait_for(&fx.engine, id, "the retried upload", |v| v.stage != Some(streamdrop_core::Stage::Upload)).await;
    assert_eq!(done.bytes_done, 30 * MIB);
    fx.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_paused_job_aborts_its_partial_upload() {
    let fx = fixture().await;
    let id = fx.engine.add_paths([fx.clip.clone()]).accepted[0].id;
    wait_for(&fx.engine, id, "the first part", |v| v.bytes_done >= 5 * MIB).await;
    fx.engine.pause(id).unwrap();
    assert!(pending_part_files(&fx.data) > 0);

    fx.engine.cancel(id).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while pending_part_files(&fx.data) > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the paused upload was not aborted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fx.engine.job(id).unwrap().bytes_done, 0, "the journal was cleared");
    fx.stack.shutdown().await;
}
