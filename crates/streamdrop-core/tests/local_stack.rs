//! The engine's pipeline against the real embedded S3 server over HTTP, with
//! ffmpeg for the transcode stage.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use streamdrop_core::credentials::ConnectionName;
use streamdrop_core::engine::{record_job, EngineOptions};
use streamdrop_core::local::{local_buckets, LocalStackOptions};
use streamdrop_core::store::Store;
use streamdrop_core::transfer::TransferOptions;
use streamdrop_core::{DataDir, Engine, JobId, JobView, LocalStack, ObjectRef, Stage};

fn write_file(dir: &Path, name: &str, len: usize) -> PathBuf {
    let path = dir.join(name);
    // Varied bytes, so a misplaced part changes the digest.
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, data).unwrap();
    path
}

fn make_clip(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25:duration=2"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"])
        .arg(&path)
        .status()
        .expect("ffmpeg must be installed");
    assert!(status.success());
    path
}

fn sha256_file(path: &Path) -> String {
    hex(&Sha256::digest(std::fs::read(path).unwrap()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn object_sha256(stack: &LocalStack, object: &ObjectRef) -> String {
    let out = stack.storage().client.get_object().bucket(&object.bucket).key(&object.key).send().await.unwrap();
    let body = out.body.collect().await.unwrap().into_bytes();
    hex(&Sha256::digest(&body))
}

struct Fixture {
    _tmp: tempfile::TempDir,
    files: PathBuf,
    data_dir: DataDir,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("camera card");
    std::fs::create_dir_all(&files).unwrap();
    let data_dir = DataDir::at(tmp.path().join("data")).unwrap();
    Fixture { _tmp: tmp, files, data_dir }
}

fn small_parts() -> EngineOptions {
    let part = 5 * 1024 * 1024;
    EngineOptions {
        upload_concurrency: 2,
        transfer: TransferOptions { part_size: part, multipart_threshold: part, ..TransferOptions::default() },
        poll_interval: Duration::from_millis(200),
    }
}

async fn settle(engine: &Engine, id: JobId) -> JobView {
    tokio::time::timeout(Duration::from_secs(120), engine.settled(id)).await.expect("job did not settle in 120 s").unwrap()
}

/// Arbitrary bytes go through upload and copy, then fail the transcode stage
/// with a clear reason, since they are not media.
fn assert_refused_as_media(view: &JobView) {
    assert_eq!((view.state.as_str(), view.stage), ("failed", Some(Stage::Transcode)), "{view:?}");
    let reason = view.error.as_deref().unwrap_or_default();
    let expected = if view.size == 0 { "the file is empty" } else { "not a video or audio file" };
    assert!(reason.contains(expected), "{view:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_uploaded_and_copied_byte_for_byte() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    assert!(stack.endpoint().starts_with("http://127.0.0.1:"), "{}", stack.endpoint());
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    let mut events = engine.subscribe();

    let small = write_file(&fx.files, "tiny clip é.mp4", 1000);
    let large = write_file(&fx.files, "A001 C002.mov", 12 * 1024 * 1024 + 17);
    let empty = write_file(&fx.files, "empty.mov", 0);
    let before: Vec<_> = [&small, &large, &empty].iter().map(|p| (sha256_file(p), std::fs::metadata(p).unwrap().modified().unwrap())).collect();

    let report = engine.add_paths([small.clone(), large.clone(), empty.clone()]);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.accepted.len(), 3);

    for (view, path) in report.accepted.iter().zip([&small, &large, &empty]) {
        let done = settle(&engine, view.id).await;
        assert_refused_as_media(&done);
        assert_eq!(done.bytes_done, done.size);
        let upload: ObjectRef = done.destination.parse().unwrap();
        assert_eq!(upload.bucket, "streamdrop-uploads");
        assert!(upload.key.ends_with(&done.file_name), "{}", upload.key);
        assert_eq!(object_sha256(&stack, &upload).await, sha256_file(path), "upload differs from {path:?}");
        let original = engine.outputs(done.id).unwrap().original;
        assert_eq!(original.bucket, "streamdrop-media");
        assert_eq!(object_sha256(&stack, &original).await, sha256_file(path), "the kept original differs from {path:?}");
    }

    // The user's files are untouched.
    let after: Vec<_> = [&small, &large, &empty].iter().map(|p| (sha256_file(p), std::fs::metadata(p).unwrap().modified().unwrap())).collect();
    assert_eq!(before, after);

    // Events told the story, stage by stage.
    let large_id = report.accepted[1].id;
    let mut states = Vec::new();
    while let Ok(view) = events.try_recv() {
        if view.id == large_id && states.last() != Some(&view.state) {
            states.push(view.state);
        }
    }
    assert_eq!(states, ["uploading", "queued", "copying", "queued", "transcoding", "failed"], "{states:?}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_becomes_a_ready_hls_stream() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    let clip = make_clip(&fx.files, "interview.mp4");
    let id = engine.add_paths([clip]).accepted[0].id;
    let done = settle(&engine, id).await;
    assert_eq!(done.state, "ready", "{done:?}");
    assert_eq!(done.stage, None);
    let layout = engine.outputs(id).unwrap().layout;
    let master = stack.storage().client.get_object().bucket(&layout.bucket).key(layout.master_playlist().key).send().await.unwrap();
    let master = String::from_utf8(master.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
    assert!(master.starts_with("#EXTM3U") && master.contains("#EXT-X-STREAM-INF"), "{master}");
    stack.storage().client.head_object().bucket(&layout.bucket).key(layout.poster().key).send().await.expect("a poster");
    stack.shutdown().await;
}

/// Processes whose working directory is under `dir` (ffmpeg runs in its job's work dir).
fn processes_in(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_during_a_local_transcode_stops_ffmpeg() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    // Long enough that the transcode is still running when the cancel comes.
    let clip = fx.files.join("long take.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(status.success());
    let id = engine.add_paths([clip]).accepted[0].id;
    let work_dir = fx.data_dir.path().join("transcode-work").join(id.to_string());

    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while processes_in(&work_dir).is_empty() {
        assert!(std::time::Instant::now() < deadline, "ffmpeg never started: {:?}", engine.job(id).unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(engine.job(id).unwrap().state, "transcoding");
    assert_eq!(engine.cancel(id).unwrap().state, "cancelled");

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !processes_in(&work_dir).is_empty() || work_dir.exists() {
        assert!(std::time::Instant::now() < deadline, "ffmpeg still runs after the cancel: {:?}", processes_in(&work_dir));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(engine.job(id).unwrap().state, "cancelled");
    stack.shutdown().await;
}

/// A Streamdrop killed outright (SIGKILL) leaves its ffmpeg running; the next
/// engine on the data dir stops it, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_stops_the_ffmpeg_a_killed_predecessor_left_running() {
    let fx = fixture();
    let job_dir = fx.data_dir.path().join("transcode-work").join(JobId::new().to_string());
    std::fs::create_dir_all(&job_dir).unwrap();
    // Both end on their own after a minute, and are killed by their guards if the test fails.
    let mut orphan = Reaped(
        std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i", "testsrc=rate=5:duration=60"])
            .args(["-f", "null", "-"])
            .current_dir(&job_dir)
            .spawn()
            .unwrap(),
    );
    let mut bystander = Reaped(std::process::Command::new("sleep").arg("60").current_dir(&job_dir).spawn().unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !processes_in(&job_dir).contains(&orphan.0.id()) {
        assert!(std::time::Instant::now() < deadline, "the orphan ffmpeg never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let _engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = orphan.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the orphan ffmpeg still runs");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!status.success(), "killed, not finished: {status:?}");
    assert!(bystander.0.try_wait().unwrap().is_none(), "a process that is not ffmpeg is left alone");
    stack.shutdown().await;
}

/// A child process killed and reaped when dropped.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_items_are_rejected_one_by_one_and_do_not_stop_the_rest() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();

    let good = write_file(&fx.files, "good.mp4", 2048);
    let folder = fx.files.join("a folder");
    std::fs::create_dir(&folder).unwrap();
    let missing = fx.files.join("gone.mov");
    let report = engine.add_paths([folder.clone(), good.clone(), missing.clone()]);

    assert_eq!(report.accepted.len(), 1);
    let reasons: Vec<_> = report.rejected.iter().map(|r| (r.path.clone(), r.reason.clone())).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, folder.display().to_string());
    assert!(reasons[0].1.contains("folder"), "{reasons:?}");
    assert_eq!(reasons[1].0, missing.display().to_string());
    assert!(reasons[1].1.contains("not found"), "{reasons:?}");

    assert_refused_as_media(&settle(&engine, report.accepted[0].id).await);
    // Rejected items never became jobs.
    assert_eq!(engine.jobs().unwrap().len(), 1);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_fails_keeps_its_reason_and_others_still_finish() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();

    let doomed = write_file(&fx.files, "doomed.mov", 4096);
    let fine = make_clip(&fx.files, "fine.mp4");
    // Record the doomed job, then change the file: the engine must refuse to mix versions.
    let store = Store::open(&fx.data_dir.store_file()).unwrap();
    let doomed_job = record_job(&store, &ConnectionName::local(), &local_buckets(), doomed.clone()).unwrap();
    std::fs::write(&doomed, b"a different take").unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    let fine_id = engine.add_paths([fine]).accepted[0].id;

    let failed = settle(&engine, doomed_job.id).await;
    assert_eq!((failed.state.as_str(), failed.stage), ("failed", Some(Stage::Upload)));
    assert!(failed.error.as_deref().unwrap_or_default().contains("changed since it was added"), "{failed:?}");
    assert_eq!(settle(&engine, fine_id).await.state, "ready");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_survive_a_restart_and_queued_ones_resume() {
    let fx = fixture();
    let clip = make_clip(&fx.files, "queued.mp4");
    // Recorded while nothing runs, as `streamdrop submit` without --wait does.
    let queued = {
        let store = Store::open(&fx.data_dir.store_file()).unwrap();
        record_job(&store, &ConnectionName::local(), &local_buckets(), clip.clone()).unwrap()
    };
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    assert_eq!(settle(&engine, queued.id).await.state, "ready");
    stack.shutdown().await;

    // A new server on a new port over the same data dir still has the objects and the job.
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    let jobs = engine.jobs().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, "ready");
    let original = engine.outputs(jobs[0].id).unwrap().original;
    assert_eq!(object_sha256(&stack, &original).await, sha256_file(&clip));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_server_refuses_unsigned_and_wrongly_signed_requests() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();

    // Anonymous HTTP: no signature at all.
    let addr = stack.endpoint().trim_start_matches("http://").to_owned();
    let response = raw_http_get(&addr, "/streamdrop-uploads/").await;
    assert!(response.starts_with("HTTP/1.1 403"), "anonymous listing must be refused: {response}");

    // Signed with the wrong secret.
    let wrong = streamdrop_core::storage::static_client(
        stack.endpoint(),
        "us-east-1",
        aws_sdk_s3::config::Credentials::new(stack.credentials().access_key_id(), "not-the-secret", None, None, "test"),
    );
    let err = wrong.list_objects_v2().bucket("streamdrop-uploads").send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403), "{err:?}");
    stack.shutdown().await;
}

async fn raw_http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    response
}

/// A restart finds each job where the last run left it (here: cut off mid-copy
/// and mid-transcode, the transcoder's job lost with the process) and takes it
/// on from that stage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_each_job_at_its_stage() {
    use streamdrop_core::jobs::TranscodeRecord;
    use streamdrop_core::JobState;

    let fx = fixture();
    let copy_clip = make_clip(&fx.files, "cut mid copy.mp4");
    let transcode_clip = make_clip(&fx.files, "cut mid transcode.mp4");
    let (copy_id, transcode_id, layouts) = {
        let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
        let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
        let ids: Vec<_> = engine.add_paths([copy_clip, transcode_clip]).accepted.iter().map(|v| v.id).collect();
        for id in &ids {
            assert_eq!(settle(&engine, *id).await.state, "ready");
        }
        let layouts: Vec<_> = ids.iter().map(|id| engine.outputs(*id).unwrap()).collect();
        // Undo what the interrupted stages would not have finished.
        let client = &stack.storage().client;
        let delete = |key: String| client.delete_object().bucket("streamdrop-media").key(key).send();
        delete(layouts[0].original.key.clone()).await.unwrap();
        delete(layouts[0].layout.master_playlist().key).await.unwrap();
        delete(layouts[1].layout.master_playlist().key).await.unwrap();
        stack.shutdown().await;
        (ids[0], ids[1], layouts)
    };
    let store = Store::open(&fx.data_dir.store_file()).unwrap();
    store.set_state(copy_id, &JobState::Copying).unwrap();
    store.set_transcode(copy_id, &TranscodeRecord::default()).unwrap();
    store.set_state(transcode_id, &JobState::Transcoding).unwrap();
    let lost = TranscodeRecord { backend_job_id: Some("local-lost-in-the-crash".into()), ..store.get(transcode_id).unwrap().unwrap().transcode };
    store.set_transcode(transcode_id, &lost).unwrap();

    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    for id in [copy_id, transcode_id] {
        assert_eq!(settle(&engine, id).await.state, "ready", "{id}");
    }
    let client = &stack.storage().client;
    for key in [layouts[0].original.key.clone(), layouts[0].layout.master_playlist().key, layouts[1].layout.master_playlist().key] {
        client.head_object().bucket("streamdrop-media").key(&key).send().await.unwrap_or_else(|e| panic!("{key} was not redone: {e:?}"));
    }
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_on_the_same_data_dir_is_refused() {
    let fx = fixture();
    let first = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let _engine = first.start_engine(&fx.data_dir, small_parts()).unwrap();
    let second = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let err = second.start_engine(&fx.data_dir, small_parts()).err().expect("refused while the first runs");
    assert!(err.to_string().contains("already running jobs"), "{err}");
    first.shutdown().await;
    second.start_engine(&fx.data_dir, small_parts()).expect("free once the first has stopped");
    second.shutdown().await;
}

/// A locked keychain must not keep local mode from starting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_keychain_does_not_stop_local_mode() {
    use std::sync::Arc;
    use streamdrop_core::credentials::{SecretRef, SecretStore, SecretStoreError};
    use zeroize::Zeroizing;

    struct Locked;
    impl SecretStore for Locked {
        fn get(&self, secret: &SecretRef) -> Result<Option<Zeroizing<String>>, SecretStoreError> {
            Err(SecretStoreError::Locked { what: secret.label(), detail: "locked for the test".into() })
        }
        fn set(&self, secret: &SecretRef, _value: &str) -> Result<(), SecretStoreError> {
            Err(SecretStoreError::Locked { what: secret.label(), detail: "locked for the test".into() })
        }
        fn delete(&self, _secret: &SecretRef) -> Result<bool, SecretStoreError> {
            Ok(false)
        }
        fn describe(&self) -> String {
            "a locked keychain".into()
        }
    }

    let fx = fixture();
    let options = LocalStackOptions { secrets: Arc::new(Locked), ..LocalStackOptions::default() };
    let stack = LocalStack::start(&fx.data_dir, options).await.expect("starts with the key in memory");
    assert!(stack.edge_url().starts_with("http://127.0.0.1:"));
    // People are told, in the app's notices, what that means for their links.
    let notices = stack.notices().join("\n");
    assert!(notices.contains("locked for the test") && notices.contains("stop working when Streamdrop quits"), "{notices}");
    stack.shutdown().await;

    let fine = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    assert!(fine.notices().is_empty(), "{:?}", fine.notices());
    fine.shutdown().await;
}
