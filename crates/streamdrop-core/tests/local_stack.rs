//! The engine's pipeline against the real embedded S3 server over HTTP, with
//! ffmpeg for the transcode stage.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use streamdrop_core::engine::{record_jobs, EngineOptions};
use streamdrop_core::intake;
use streamdrop_core::model::{ConnectionName, Job};
use streamdrop_core::stack::{local_buckets, LocalStackOptions};
use streamdrop_core::store::Store;
use streamdrop_core::transfer::TransferOptions;
use streamdrop_core::{DataDir, Engine, JobId, JobView, LocalStack, ObjectRef, ProblemCode, Stage};

use streamdrop_e2e::{hex, make_clip_sized as make_clip, make_large_clip, sha256_file};

/// Where the local transcoder writes a job's master playlist.
fn master_of(layout: &streamdrop_core::model::OutputLayout) -> ObjectRef {
    layout.object(streamdrop_core::transcode::local_ffmpeg::NAMING.master)
}

/// Records `path` as a queued job of Local, as `streamdrop submit` without `--wait` does.
async fn record(data_dir: &DataDir, path: PathBuf) -> Job {
    let store = Store::open(&data_dir.store_file()).unwrap();
    let (mut jobs, rejected) =
        record_jobs(&store, &ConnectionName::local(), &local_buckets(), intake::plan([path]).await);
    assert!(rejected.is_empty(), "{rejected:?}");
    jobs.remove(0)
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
        events: None,
    }
}

async fn settle(engine: &Engine, id: JobId) -> JobView {
    tokio::time::timeout(Duration::from_secs(120), engine.settled(id))
        .await
        .expect("job did not settle in 120 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_uploaded_and_copied_byte_for_byte() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    assert!(stack.endpoint().starts_with("http://127.0.0.1:"), "{}", stack.endpoint());
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    let mut events = engine.subscribe();

    let small = make_clip(&fx.files, "tiny clip é.mp4", "320x180", 1);
    let large = make_large_clip(&fx.files, "A001 C002.mov", (640, 360), 12 * 1024 * 1024 + 17);
    let before: Vec<_> =
        [&small, &large].iter().map(|p| (sha256_file(p), std::fs::metadata(p).unwrap().modified().unwrap())).collect();

    let report = engine.add_paths([small.clone(), large.clone()]).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.accepted.len(), 2);
    let store = Store::open(&fx.data_dir.store_file()).unwrap();

    for (view, path) in report.accepted.iter().zip([&small, &large]) {
        let done = settle(&engine, view.id).await;
        assert_eq!(done.state, "ready", "{done:?}");
        assert_eq!(done.bytes_done, done.size);
        let upload = store.get(done.id).unwrap().unwrap().destination;
        assert_eq!(upload.bucket, "streamdrop-uploads");
        assert!(upload.key.ends_with(&done.file_name), "{}", upload.key);
        assert_eq!(object_sha256(&stack, &upload).await, sha256_file(path), "upload differs from {path:?}");
        let original = engine.outputs(done.id).unwrap().original;
        assert_eq!(original.bucket, "streamdrop-media");
        assert_eq!(done.location, original.to_string(), "a finished job says where it lives now");
        assert_eq!(
            object_sha256(&stack, &original).await,
            sha256_file(path),
            "the kept original differs from {path:?}"
        );
    }

    // The user's files are untouched.
    let after: Vec<_> =
        [&small, &large].iter().map(|p| (sha256_file(p), std::fs::metadata(p).unwrap().modified().unwrap())).collect();
    assert_eq!(before, after);

    // Events told the story, stage by stage.
    let large_id = report.accepted[1].id;
    let mut states = Vec::new();
    while let Ok(view) = events.try_recv() {
        if view.id == large_id && states.last() != Some(&view.state) {
            states.push(view.state);
        }
    }
    assert_eq!(states, ["uploading", "queued", "copying", "queued", "transcoding", "ready"], "{states:?}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_becomes_a_ready_hls_stream() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    let clip = make_clip(&fx.files, "interview.mp4", "320x180", 2);
    let id = engine.add_paths([clip]).await.accepted[0].id;
    let done = settle(&engine, id).await;
    assert_eq!(done.state, "ready", "{done:?}");
    assert_eq!(done.stage, None);
    let layout = engine.outputs(id).unwrap().layout;
    // The job records what ffmpeg wrote, and all of it is there.
    let manifest = engine.manifest(id).unwrap().expect("a ready job has a manifest");
    let client = &stack.storage().client;
    let master = client.get_object().bucket(&layout.bucket).key(&manifest.master).send().await.unwrap();
    let master = String::from_utf8(master.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
    assert!(master.starts_with("#EXTM3U") && master.contains("#EXT-X-STREAM-INF"), "{master}");
    assert_eq!(manifest.variants.len(), master.matches("#EXT-X-STREAM-INF").count(), "{manifest:?}");
    assert!(!manifest.thumbnails.is_empty() && manifest.thumbnails[0].time_secs == 0.0, "{manifest:?}");
    let poster = manifest.poster.clone().expect("a poster");
    let wrote = manifest.variants.iter().map(|v| &v.playlist).chain(manifest.thumbnails.iter().map(|t| &t.key));
    for key in wrote.chain([&poster]) {
        client.head_object().bucket(&layout.bucket).key(key).send().await.unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
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
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30:duration=60",
        ])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(status.success());
    let id = engine.add_paths([clip]).await.accepted[0].id;
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
        assert!(
            std::time::Instant::now() < deadline,
            "ffmpeg still runs after the cancel: {:?}",
            processes_in(&work_dir)
        );
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
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-nostdin",
                "-re",
                "-f",
                "lavfi",
                "-i",
                "testsrc=rate=5:duration=60",
            ])
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

    let good = make_clip(&fx.files, "good.mp4", "320x180", 1);
    let folder = fx.files.join("a folder");
    std::fs::create_dir(&folder).unwrap();
    let missing = fx.files.join("gone.mov");
    let report = engine.add_paths([folder.clone(), good.clone(), missing.clone()]).await;

    assert_eq!(report.accepted.len(), 1);
    let reasons: Vec<_> = report.rejected.iter().map(|r| (r.path.clone(), r.problem.code)).collect();
    assert_eq!(
        reasons,
        [
            (folder.display().to_string(), ProblemCode::FolderWithoutVideo),
            (missing.display().to_string(), ProblemCode::FileNotFound)
        ]
    );
    assert_eq!(settle(&engine, report.accepted[0].id).await.state, "ready");
    // Rejected items never became jobs.
    assert_eq!(engine.jobs().unwrap().len(), 1);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_fails_keeps_its_reason_and_others_still_finish() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();

    let doomed = make_clip(&fx.files, "doomed.mov", "320x180", 1);
    let fine = make_clip(&fx.files, "fine.mp4", "320x180", 2);
    // Record the doomed job, then change the file: the engine must refuse to mix versions.
    let doomed_job = record(&fx.data_dir, doomed.clone()).await;
    std::fs::write(&doomed, b"a different take").unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    let fine_id = engine.add_paths([fine]).await.accepted[0].id;

    let failed = settle(&engine, doomed_job.id).await;
    assert_eq!((failed.state.as_str(), failed.stage), ("failed", Some(Stage::Upload)));
    let problem = failed.error.clone().unwrap();
    assert_eq!(problem.code, ProblemCode::FileChanged, "{failed:?}");
    assert_eq!(
        problem.message,
        "doomed.mov changed after it was added — it may still be copying from the card. Add it again once the copy has finished."
    );
    assert_eq!(settle(&engine, fine_id).await.state, "ready");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_survive_a_restart_and_queued_ones_resume() {
    let fx = fixture();
    let clip = make_clip(&fx.files, "queued.mp4", "320x180", 2);
    // Recorded while nothing runs, as `streamdrop submit` without --wait does.
    let queued = record(&fx.data_dir, clip.clone()).await;
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
    socket
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    response
}

/// A restart finds each job where the last run left it (here: cut off mid-copy
/// and mid-transcode, the transcoder's job lost with the process) and takes it
/// on from that stage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_each_job_at_its_stage() {
    use streamdrop_core::model::TranscodeRecord;
    use streamdrop_core::JobState;

    let fx = fixture();
    let copy_clip = make_clip(&fx.files, "cut mid copy.mp4", "320x180", 2);
    let transcode_clip = make_clip(&fx.files, "cut mid transcode.mp4", "320x180", 2);
    let (copy_id, transcode_id, layouts) = {
        let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
        let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
        let ids: Vec<_> = engine.add_paths([copy_clip, transcode_clip]).await.accepted.iter().map(|v| v.id).collect();
        for id in &ids {
            assert_eq!(settle(&engine, *id).await.state, "ready");
        }
        let layouts: Vec<_> = ids.iter().map(|id| engine.outputs(*id).unwrap()).collect();
        // Undo what the interrupted stages would not have finished.
        let client = &stack.storage().client;
        let delete = |key: String| client.delete_object().bucket("streamdrop-media").key(key).send();
        delete(layouts[0].original.key.clone()).await.unwrap();
        delete(master_of(&layouts[0].layout).key).await.unwrap();
        delete(master_of(&layouts[1].layout).key).await.unwrap();
        stack.shutdown().await;
        (ids[0], ids[1], layouts)
    };
    let store = Store::open(&fx.data_dir.store_file()).unwrap();
    store.set_state(copy_id, &JobState::Copying).unwrap();
    store.set_transcode(copy_id, &TranscodeRecord::default()).unwrap();
    store.set_state(transcode_id, &JobState::Transcoding).unwrap();
    let lost = TranscodeRecord {
        backend_job_id: Some("local-lost-in-the-crash".into()),
        ..store.get(transcode_id).unwrap().unwrap().transcode
    };
    store.set_transcode(transcode_id, &lost).unwrap();

    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&fx.data_dir, small_parts()).unwrap();
    for id in [copy_id, transcode_id] {
        assert_eq!(settle(&engine, id).await.state, "ready", "{id}");
    }
    let client = &stack.storage().client;
    for key in [layouts[0].original.key.clone(), master_of(&layouts[0].layout).key, master_of(&layouts[1].layout).key] {
        client
            .head_object()
            .bucket("streamdrop-media")
            .key(&key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key} was not redone: {e:?}"));
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
    let notices = stack.notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].code, ProblemCode::KeychainUnavailable);
    assert!(notices[0].message().contains("stop working when Streamdrop quits"), "{notices:?}");
    assert!(
        notices[0].detail.as_deref().unwrap_or_default().contains("locked for the test"),
        "the cause is in the detail: {notices:?}"
    );
    stack.shutdown().await;

    let fine = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    assert!(fine.notices().is_empty(), "{:?}", fine.notices());
    fine.shutdown().await;
}

/// Local mode mints new server keys every run. A multipart upload begun under
/// one run's key must go on under the next run's, as uploads do on AWS (they
/// belong to the bucket, not to a key); an upload the server does not hold is
/// `NoSuchUpload`, as on AWS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_uploads_outlive_the_key_that_began_them() {
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

    let fx = fixture();
    let part = |n: u8| vec![n; 5 * 1024 * 1024];
    let (upload_id, first_etag) = {
        let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
        let client = &stack.storage().client;
        let created =
            client.create_multipart_upload().bucket("streamdrop-uploads").key("k/clip.mov").send().await.unwrap();
        let id = created.upload_id.unwrap();
        let sent = client
            .upload_part()
            .bucket("streamdrop-uploads")
            .key("k/clip.mov")
            .upload_id(&id)
            .part_number(1)
            .body(ByteStream::from(part(1)))
            .send()
            .await
            .unwrap();
        stack.shutdown().await;
        (id, sent.e_tag.unwrap())
    };

    // The next run: new keys.
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let client = &stack.storage().client;
    let listed =
        client.list_parts().bucket("streamdrop-uploads").key("k/clip.mov").upload_id(&upload_id).send().await.unwrap();
    assert_eq!(listed.parts().iter().map(|p| p.part_number()).collect::<Vec<_>>(), [Some(1)]);
    let second = client
        .upload_part()
        .bucket("streamdrop-uploads")
        .key("k/clip.mov")
        .upload_id(&upload_id)
        .part_number(2)
        .body(ByteStream::from(part(2)))
        .send()
        .await
        .expect("a part under the new run's key");
    let parts = [(1, first_etag), (2, second.e_tag.unwrap())]
        .map(|(n, etag)| CompletedPart::builder().part_number(n).e_tag(etag).build());
    client
        .complete_multipart_upload()
        .bucket("streamdrop-uploads")
        .key("k/clip.mov")
        .upload_id(&upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts.to_vec())).build())
        .send()
        .await
        .expect("completed under the new run's key");
    let stored = std::fs::read(fx.data_dir.local_storage_root().join("streamdrop-uploads/k/clip.mov")).unwrap();
    assert_eq!(stored, [part(1), part(2)].concat());

    // Gone now, as is an id the server never gave out: NoSuchUpload, not AccessDenied or an empty list.
    for id in [upload_id.as_str(), "0b5b3e1c-8f7d-4bb4-9d7a-3d1a2b3c4d5e"] {
        let err =
            client.list_parts().bucket("streamdrop-uploads").key("k/clip.mov").upload_id(id).send().await.unwrap_err();
        assert_eq!(err.as_service_error().and_then(|e| e.meta().code()), Some("NoSuchUpload"), "{err:?}");
        let err = client
            .upload_part()
            .bucket("streamdrop-uploads")
            .key("k/clip.mov")
            .upload_id(id)
            .part_number(1)
            .body(ByteStream::from(part(3)))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.as_service_error().and_then(|e| e.meta().code()), Some("NoSuchUpload"), "{err:?}");
    }
    stack.shutdown().await;
}

/// Uploads an older Streamdrop began were bound to that run's key by s3s-fs;
/// they are adopted, not refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_an_older_version_bound_to_its_key_are_adopted() {
    use aws_sdk_s3::primitives::ByteStream;

    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let client = &stack.storage().client;
    let created = client.create_multipart_upload().bucket("streamdrop-uploads").key("old.mov").send().await.unwrap();
    let id = created.upload_id.unwrap();
    // What s3s-fs wrote when Streamdrop handed it the caller's identity.
    let record = fx.data_dir.local_storage_root().join(format!(".upload-{id}.json"));
    assert_eq!(std::fs::read(&record).unwrap(), b"null", "new uploads are bound to no key");
    std::fs::write(&record, br#""SDLOCALOLDRUNKEY1234""#).unwrap();
    client
        .upload_part()
        .bucket("streamdrop-uploads")
        .key("old.mov")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(vec![7u8; 1024]))
        .send()
        .await
        .expect("an upload bound to an old run's key is adopted");
    stack.shutdown().await;
}
