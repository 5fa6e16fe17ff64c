//! Pause, resume, cancel, retry and add again, against the real embedded S3 server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use streamdrop_core::engine::{EngineError, EngineOptions};
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::transfer::TransferOptions;
use streamdrop_core::{DataDir, Engine, JobId, JobView, LocalStack, ObjectRef, ProblemCode, Remedy};

use streamdrop_e2e::make_large_clip;

const MIB: u64 = 1024 * 1024;

struct Fixture {
    _tmp: tempfile::TempDir,
    data: DataDir,
    stack: LocalStack,
    engine: Engine,
    clip: PathBuf,
}

/// The fixture's upload rate limit, bytes per second.
const LIMIT: u64 = 10_000_000;

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
            bandwidth_limit: Some(LIMIT),
            ..TransferOptions::default()
        },
        poll_interval: Duration::from_millis(200),
    };
    let engine = stack.start_engine(&data, options).unwrap();
    let clip = make_large_clip(tmp.path(), "B002 wide.mov", (640, 360), 30 * MIB);
    Fixture { _tmp: tmp, data, stack, engine, clip }
}

async fn wait_for(engine: &Engine, id: JobId, what: &str, done: impl Fn(&JobView) -> bool) -> JobView {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
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
    let id = fx.engine.add_paths([fx.clip.clone()]).await.accepted[0].id;
    wait_for(&fx.engine, id, "the first parts", |v| v.bytes_done >= 10 * MIB).await;

    let paused = fx.engine.pause(id).unwrap();
    assert_eq!(paused.state, "paused");
    let kept = paused.bytes_done;
    assert!(kept >= 5 * MIB && kept % (5 * MIB) == 0, "paused with whole parts journalled: {paused:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let still = fx.engine.job(id).unwrap();
    assert_eq!((still.state.as_str(), still.bytes_done), ("paused", kept), "nothing moves while paused");

    let mut events = fx.engine.subscribe();
    assert_eq!(fx.engine.resume(id).unwrap().state, "queued");
    let done = wait_for(&fx.engine, id, "the job", |v| v.state == "ready").await;
    let object: ObjectRef = done.location.parse().unwrap();
    assert!(
        object.key.contains("/original/"),
        "a ready job lives in the media bucket, not the temporary upload: {done:?}"
    );
    let stored = fx.data.local_storage_root().join(&object.bucket).join(&object.key);
    assert_eq!(sha256(&stored), sha256(&fx.clip));
    assert_eq!(pending_part_files(&fx.data), 0);
    assert_eq!(done.bytes_resumed, kept, "the job remembers what the resume found: {done:?}");

    // After the resume, speed is what this run sends: the kept bytes are not a burst.
    let mut rates = Vec::new();
    while let Ok(view) = events.try_recv() {
        if view.id == id && view.state == "uploading" {
            assert_eq!(view.bytes_resumed, kept.min(view.bytes_done), "{view:?}");
            rates.extend(view.rate_bps);
        }
    }
    assert!(!rates.is_empty(), "the resumed upload reported its speed");
    let fastest = rates.iter().max().copied().unwrap_or(0);
    assert!(fastest <= LIMIT * 3 / 2, "speed after a resume counts only what was sent since: {rates:?}");

    let err = fx.engine.pause(id).unwrap_err();
    assert!(matches!(err, EngineError::NotNow { .. }), "{err}");
    assert_eq!(err.to_string(), "the job is ready, so it cannot be paused");
    fx.stack.shutdown().await;
}

/// A file rewritten while its upload waits is never mixed with what was sent
/// of it: the job fails as "changed", Retry is refused (it cannot help), and
/// "add again" reads the file anew and uploads the new version whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_is_added_again_not_retried() {
    let fx = fixture().await;
    let id = fx.engine.add_paths([fx.clip.clone()]).await.accepted[0].id;
    wait_for(&fx.engine, id, "the first part", |v| v.bytes_done >= 5 * MIB).await;
    fx.engine.pause(id).unwrap();
    let shorter = make_large_clip(fx._tmp.path(), "shorter take.mov", (640, 360), 12 * MIB);
    std::fs::rename(&shorter, &fx.clip).unwrap();
    fx.engine.resume(id).unwrap();

    let failed = wait_for(&fx.engine, id, "the failure", |v| v.state == "failed").await;
    let problem = failed.error.clone().expect("a failed job says why");
    assert_eq!((problem.code, problem.remedy), (ProblemCode::FileChanged, Remedy::AddAgain), "{failed:?}");
    assert!(problem.message.starts_with("B002 wide.mov changed"), "{}", problem.message);
    let err = fx.engine.retry(id).unwrap_err();
    assert!(matches!(err, EngineError::RetryWontHelp { .. }), "{err}");

    assert_eq!(fx.engine.add_again(id).await.unwrap().state, "queued");
    let done = wait_for(&fx.engine, id, "the new version", |v| v.state == "ready").await;
    assert_eq!(done.size, std::fs::metadata(&fx.clip).unwrap().len());
    let object: ObjectRef = done.location.parse().unwrap();
    assert_eq!(sha256(&fx.data.local_storage_root().join(&object.bucket).join(&object.key)), sha256(&fx.clip));
    assert_eq!(pending_part_files(&fx.data), 0, "the old version's parts are gone");
    fx.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_leaves_nothing_behind_and_retry_starts_again() {
    let fx = fixture().await;
    let id = fx.engine.add_paths([fx.clip.clone()]).await.accepted[0].id;
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
    let object: ObjectRef = job.location.parse().unwrap();
    assert!(!fx.data.local_storage_root().join(&object.bucket).join(&object.key).exists());

    assert_eq!(fx.engine.retry(id).unwrap().state, "queued");
    let done =
        wait_for(&fx.engine, id, "the retried upload", |v| v.stage != Some(streamdrop_core::Stage::Upload)).await;
    assert_eq!(done.bytes_done, std::fs::metadata(&fx.clip).unwrap().len());
    fx.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_paused_job_aborts_its_partial_upload() {
    let fx = fixture().await;
    let id = fx.engine.add_paths([fx.clip.clone()]).await.accepted[0].id;
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

/// A partial upload the server no longer holds (aborted behind Streamdrop's
/// back, expired by a lifecycle rule) is started afresh on resume, never left failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_the_server_forgot_starts_afresh() {
    use streamdrop_core::store::{Store, UploadKey};

    let fx = fixture().await;
    let id = fx.engine.add_paths([fx.clip.clone()]).await.accepted[0].id;
    wait_for(&fx.engine, id, "the first part", |v| v.bytes_done >= 5 * MIB).await;
    fx.engine.pause(id).unwrap();

    let store = Store::open(&fx.data.store_file()).unwrap();
    let job = store.get(id).unwrap().unwrap();
    let key = UploadKey { target: "local".into(), dest: job.destination.clone(), source_path: job.source.path.clone() };
    let upload = store.find_upload(&key).unwrap().expect("the paused upload is journalled");
    assert!(!upload.parts.is_empty());
    let client = &fx.stack.storage().client;
    client
        .abort_multipart_upload()
        .bucket(&job.destination.bucket)
        .key(&job.destination.key)
        .upload_id(&upload.upload_id)
        .send()
        .await
        .unwrap();

    fx.engine.resume(id).unwrap();
    let done = wait_for(&fx.engine, id, "the upload", |v| {
        v.stage != Some(streamdrop_core::Stage::Upload) || v.state == "failed"
    })
    .await;
    assert_ne!(done.state, "failed", "{done:?}");
    assert_eq!(done.bytes_resumed, 0, "nothing could be resumed: {done:?}");
    let stored = fx.data.local_storage_root().join(&job.destination.bucket).join(&job.destination.key);
    assert_eq!(sha256(&stored), sha256(&fx.clip));
    fx.stack.shutdown().await;
}
