//! Pause, resume, cancel, retry and add again, against the real embedded S3 server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use streamdrop_core::engine::{EngineError, EngineOptions};
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::transfer::{BandwidthLimiter, TransferOptions};
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
            bandwidth: Some(Arc::new(BandwidthLimiter::new(LIMIT))),
            ..TransferOptions::default()
        },
        poll_interval: Duration::from_millis(200),
        events: None,
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

/// A card's worth of jobs shares the engine's slots, as the server sees it:
/// however many are queued, no more requests for uploads and copies reach
/// the uploads bucket at once than the cap (`upload_concurrency` × the parts
/// each sends, plus as many single-request files), short clips are not held
/// up behind long ones, and each kind starts in the order it was dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_of_jobs_shares_one_cap_and_short_clips_pass_long_ones() {
    use std::sync::Arc;
    use streamdrop_core::model::ConnectionName;
    use streamdrop_core::storage::{static_client, Storage};
    use streamdrop_core::store::Store;
    use streamdrop_core::transcode::local_ffmpeg::work_root;
    use streamdrop_core::transcode::{LocalFfmpeg, LocalFfmpegOptions};
    use streamdrop_e2e::fault_proxy::{Fault, FaultProxy, Match};

    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path().join("data")).unwrap();
    let stack = LocalStack::start(&data, LocalStackOptions::default()).await.unwrap();
    let upstream = stack.endpoint().trim_start_matches("http://").parse().unwrap();
    let proxy = FaultProxy::start(upstream);
    // Every request to the uploads bucket takes a while, so overlapping ones overlap at the server.
    proxy.inject(
        Match::any().with_path_containing("/streamdrop-uploads/"),
        Fault::Delay(Duration::from_millis(150)),
        usize::MAX,
    );
    let creds = stack.credentials();
    let credentials =
        aws_sdk_s3::config::Credentials::new(creds.access_key_id(), creds.secret_access_key(), None, None, "test");
    let storage =
        Storage { client: static_client(&proxy.endpoint(), "us-east-1", credentials), ..stack.storage().clone() };
    let transcoder = LocalFfmpeg::new(stack.storage().clone(), work_root(&data), LocalFfmpegOptions::default());
    let options = EngineOptions {
        upload_concurrency: 2,
        transfer: TransferOptions {
            part_size: 5 * MIB,
            multipart_threshold: 5 * MIB,
            concurrency: 3,
            ..TransferOptions::default()
        },
        poll_interval: Duration::from_millis(200),
        events: None,
    };
    let _claim = data.claim_for_engine().unwrap();
    let store = Store::open(&data.store_file()).unwrap();
    let engine = Engine::start(store, ConnectionName::local(), storage, Arc::new(transcoder), options).unwrap();

    // Three long clips first (four parts each), then eight short ones: twelve and more requests could go at once.
    let mut paths = Vec::new();
    for i in 1..=3 {
        paths.push(make_large_clip(tmp.path(), &format!("L{i:02} long.mov"), (640, 360), 16 * MIB));
    }
    for i in 1..=8 {
        paths.push(streamdrop_e2e::make_clip_sized(tmp.path(), &format!("S{i:02} short.mp4"), "160x90", 1));
    }
    let report = engine.add_paths(paths.clone()).await;
    assert_eq!(report.accepted.len(), 11, "{:?}", report.rejected);
    for job in &report.accepted {
        wait_for(&engine, job.id, "its upload", |v| v.stage.is_none_or(|s| s.as_str() != "upload")).await;
    }

    let cap = 2 * 3 + 2;
    let seen = proxy.max_in_flight("streamdrop-uploads");
    assert!(seen <= cap, "{seen} requests at once reached the server; the cap is {cap}");
    assert!(seen >= 4, "only {seen} at once: the uploads did not run side by side");

    let requests = proxy.requests();
    let key_of = |path: &str| path.rsplit('/').next().unwrap_or_default().to_owned();
    let started = |long: bool| -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in requests.iter().filter(|r| r.path.starts_with("/streamdrop-uploads/")) {
            let name = percent_encoding::percent_decode_str(&key_of(&r.path)).decode_utf8_lossy().into_owned();
            let is_long = name.starts_with('L');
            let first = if long { r.method == "POST" && r.has_param("uploads") } else { r.method == "PUT" };
            if is_long == long && first && !names.contains(&name) {
                names.push(name);
            }
        }
        names
    };
    // Two start at once, so two neighbours may reach the server either way round; no
    // job starts before one dropped more than a place ahead of it.
    let in_drop_order = |started: Vec<String>, dropped: Vec<String>| {
        assert_eq!(started.len(), dropped.len(), "{started:?}");
        for (i, name) in started.iter().enumerate() {
            let j = dropped.iter().position(|d| d == name).unwrap();
            assert!(i.abs_diff(j) < 2, "{name} started {i}th, dropped {j}th: {started:?}");
        }
    };
    in_drop_order(started(true), (1..=3).map(|i| format!("L{i:02} long.mov")).collect());
    in_drop_order(started(false), (1..=8).map(|i| format!("S{i:02} short.mp4")).collect());
    // Short clips go alongside the long ones: the first was sent before any long one had
    // finished (with one shared lane it waits for a long upload's place, and the next long
    // clip, dropped earlier, takes that place first).
    let first_short = requests
        .iter()
        .position(|r| r.method == "PUT" && r.path.starts_with("/streamdrop-uploads/") && r.path.contains("short"))
        .unwrap();
    let first_complete = requests
        .iter()
        .position(|r| r.method == "POST" && r.has_param("uploadId") && r.path.starts_with("/streamdrop-uploads/"))
        .unwrap();
    assert!(first_short < first_complete, "the short clips waited for a long one to finish");
    engine.stop();
}

/// A card pulled out mid-upload: the job fails saying the file is gone, and
/// once the card is back (the same file at the same place) the upload
/// resumes by itself from what was sent, with no click.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplugged_card_fails_its_upload_and_it_resumes_when_the_card_is_back() {
    let fx = fixture().await;
    let card = fx._tmp.path().join("CARD_A");
    std::fs::create_dir(&card).unwrap();
    let clip = card.join("A001C003.mov");
    std::fs::rename(&fx.clip, &clip).unwrap();
    let id = fx.engine.add_paths([card.clone()]).await.accepted[0].id;
    wait_for(&fx.engine, id, "the first parts", |v| v.bytes_done >= 10 * MIB).await;

    let unplugged = fx._tmp.path().join("card pulled out");
    std::fs::rename(&card, &unplugged).unwrap();
    let failed = wait_for(&fx.engine, id, "the failure", |v| v.state == "failed").await;
    let problem = failed.error.clone().expect("a failed job says why");
    assert_eq!((problem.code, problem.remedy), (ProblemCode::FileMissing, Remedy::Retry), "{failed:?}");
    assert!(problem.message.starts_with("A001C003.mov is no longer where it was added"), "{}", problem.message);
    assert!(problem.message.contains("resumes by itself"), "the sentence says what will happen: {}", problem.message);
    // Still gone: it stays failed, nothing is thrown away.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fx.engine.job(id).unwrap().state, "failed");

    std::fs::rename(&unplugged, &card).unwrap();
    let done = wait_for(&fx.engine, id, "the resumed job", |v| v.state == "ready").await;
    assert!(done.bytes_resumed >= 10 * MIB, "what was sent before the card left was kept: {done:?}");
    let object: ObjectRef = done.location.parse().unwrap();
    assert_eq!(sha256(&fx.data.local_storage_root().join(&object.bucket).join(&object.key)), sha256(&clip));
    assert_eq!(pending_part_files(&fx.data), 0);
    fx.stack.shutdown().await;
}

/// A card that comes back with another file under the clip's name is not
/// resumed: mixing two versions would corrupt the upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_back_with_another_file_under_the_name_is_not_resumed() {
    let fx = fixture().await;
    let card = fx._tmp.path().join("CARD_B");
    std::fs::create_dir(&card).unwrap();
    let clip = card.join("B001C001.mov");
    std::fs::rename(&fx.clip, &clip).unwrap();
    let id = fx.engine.add_paths([card.clone()]).await.accepted[0].id;
    wait_for(&fx.engine, id, "the first part", |v| v.bytes_done >= 5 * MIB).await;
    std::fs::rename(&card, fx._tmp.path().join("elsewhere")).unwrap();
    wait_for(&fx.engine, id, "the failure", |v| v.state == "failed").await;

    std::fs::create_dir(&card).unwrap();
    let other = make_large_clip(fx._tmp.path(), "other take.mov", (640, 360), 12 * MIB);
    std::fs::rename(&other, &clip).unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let still = fx.engine.job(id).unwrap();
    assert_eq!(still.state, "failed", "another file is never taken for the one that left: {still:?}");
    fx.stack.shutdown().await;
}
