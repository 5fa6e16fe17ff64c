//! The engine against the real embedded S3 server, over HTTP.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use streamdrop_core::engine::{record_job, EngineOptions};
use streamdrop_core::local::{local_buckets, LocalStackOptions};
use streamdrop_core::store::Store;
use streamdrop_core::transfer::TransferOptions;
use streamdrop_core::{DataDir, Engine, LocalStack, ObjectRef};

fn write_file(dir: &Path, name: &str, len: usize) -> PathBuf {
    let path = dir.join(name);
    // Varied bytes, so a misplaced part changes the digest.
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, data).unwrap();
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
    }
}

async fn settle(engine: &Engine, id: streamdrop_core::JobId) -> streamdrop_core::JobView {
    tokio::time::timeout(Duration::from_secs(60), engine.settled(id)).await.expect("job did not settle in 60 s").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_small_and_multipart_files_byte_for_byte() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    assert!(stack.endpoint().starts_with("http://127.0.0.1:"), "{}", stack.endpoint());
    let store = Store::open(&fx.data_dir.store_file()).unwrap();
    let engine = Engine::start(store, stack.storage().clone(), small_parts()).unwrap();
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
        assert_eq!(done.state, "uploaded", "{done:?}");
        assert_eq!(done.bytes_done, done.size);
        let object: ObjectRef = done.destination.parse().unwrap();
        assert_eq!(object.bucket, "streamdrop-uploads");
        assert!(object.key.ends_with(&done.file_name), "{}", object.key);
        assert_eq!(object_sha256(&stack, &object).await, sha256_file(path), "object differs from {path:?}");
    }

    // The user's files are untouched.
    let after: Vec<_> = [&small, &large, &empty].iter().map(|p| (sha256_file(p), std::fs::metadata(p).unwrap().modified().unwrap())).collect();
    assert_eq!(before, after);

    // Events told the story: the large file was seen uploading, then uploaded.
    let large_id = report.accepted[1].id;
    let mut states = Vec::new();
    while let Ok(view) = events.try_recv() {
        if view.id == large_id {
            states.push(view.state);
        }
    }
    assert_eq!(states.first().map(String::as_str), Some("uploading"), "{states:?}");
    assert_eq!(states.last().map(String::as_str), Some("uploaded"), "{states:?}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_items_are_rejected_one_by_one_and_do_not_stop_the_rest() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = Engine::start(Store::open(&fx.data_dir.store_file()).unwrap(), stack.storage().clone(), small_parts()).unwrap();

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

    assert_eq!(settle(&engine, report.accepted[0].id).await.state, "uploaded");
    // Rejected items never became jobs.
    assert_eq!(engine.jobs().unwrap().len(), 1);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_fails_keeps_its_reason_and_others_still_finish() {
    let fx = fixture();
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = Engine::start(Store::open(&fx.data_dir.store_file()).unwrap(), stack.storage().clone(), small_parts()).unwrap();

    let doomed = write_file(&fx.files, "doomed.mov", 4096);
    let fine = write_file(&fx.files, "fine.mov", 4096);
    // Record the doomed job, then change the file: the engine must refuse to mix versions.
    let store = Store::open(&fx.data_dir.store_file()).unwrap();
    let doomed_job = record_job(&store, &local_buckets(), doomed.clone()).unwrap();
    std::fs::write(&doomed, b"a different take").unwrap();
    drop(engine);
    let engine = Engine::start(store, stack.storage().clone(), small_parts()).unwrap();
    let fine_id = engine.add_paths([fine]).accepted[0].id;

    let failed = settle(&engine, doomed_job.id).await;
    assert_eq!(failed.state, "failed");
    assert!(failed.error.as_deref().unwrap_or_default().contains("changed since it was added"), "{failed:?}");
    assert_eq!(settle(&engine, fine_id).await.state, "uploaded");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_survive_a_restart_and_queued_ones_resume() {
    let fx = fixture();
    let clip = write_file(&fx.files, "queued.mov", 6 * 1024 * 1024);
    // Recorded while nothing runs, as `streamdrop submit` without --wait does.
    let queued = {
        let store = Store::open(&fx.data_dir.store_file()).unwrap();
        record_job(&store, &local_buckets(), clip.clone()).unwrap()
    };
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = Engine::start(Store::open(&fx.data_dir.store_file()).unwrap(), stack.storage().clone(), small_parts()).unwrap();
    let done = settle(&engine, queued.id).await;
    assert_eq!(done.state, "uploaded");
    stack.shutdown().await;

    // A new server on a new port over the same data dir still has the object and the job.
    let stack = LocalStack::start(&fx.data_dir, LocalStackOptions::default()).await.unwrap();
    let engine = Engine::start(Store::open(&fx.data_dir.store_file()).unwrap(), stack.storage().clone(), small_parts()).unwrap();
    let jobs = engine.jobs().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, "uploaded");
    let object: ObjectRef = jobs[0].destination.parse().unwrap();
    assert_eq!(object_sha256(&stack, &object).await, sha256_file(&clip));
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
