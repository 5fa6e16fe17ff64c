//! The transfer engine through the `streamdrop` command, against two real S3
//! servers (the embedded s3s server and moto's), with kills, restarts and
//! injected faults.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{Credentials, ResponseChecksumValidation};
use aws_sdk_s3::Client;
use serde_json::Value;
use streamdrop_core::local::LocalCredentials;
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::storage::static_client;
use streamdrop_core::store::{Store, UploadKey};
use streamdrop_core::{DataDir, LocalStack, ObjectRef};
use streamdrop_e2e::fault_proxy::{Fault, FaultProxy, Match};
use streamdrop_e2e::moto::{MotoServer, MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY};
use streamdrop_e2e::{built_binary, free_port, sha256_file, ChildGuard};

const MIB: u64 = 1024 * 1024;
const BUCKET: &str = "streamdrop-uploads";
const KEY_ID: &str = "SDTRANSFERKEY";
const SECRET: &str = "sd-transfer-secret-0a1b2c3d";

/// A real S3 server for one test.
enum Server {
    Local { stack: Box<LocalStack> },
    Moto(MotoServer),
}

impl Server {
    async fn local(root: &Path) -> Self {
        let data = DataDir::at(root.join("server")).unwrap();
        let stack = LocalStack::start(&data, local_options(0)).await.unwrap();
        Server::Local { stack: Box::new(stack) }
    }

    async fn moto() -> Self {
        let moto = tokio::task::spawn_blocking(MotoServer::start).await.unwrap();
        let server = Server::Moto(moto);
        server.client().create_bucket().bucket(BUCKET).send().await.unwrap();
        server
    }

    fn endpoint(&self) -> String {
        match self {
            Server::Local { stack, .. } => stack.endpoint().to_owned(),
            Server::Moto(moto) => moto.endpoint(),
        }
    }

    fn credentials(&self) -> (&'static str, &'static str) {
        match self {
            Server::Local { .. } => (KEY_ID, SECRET),
            Server::Moto(_) => (MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY),
        }
    }

    fn client(&self) -> Client {
        client_for(&self.endpoint(), self.credentials())
    }
}

fn local_options(port: u16) -> LocalStackOptions {
    LocalStackOptions {
        bind: ([127, 0, 0, 1], port).into(),
        credentials: Some(LocalCredentials::new(KEY_ID, SECRET)),
        ..LocalStackOptions::default()
    }
}

fn client_for(endpoint: &str, (id, secret): (&str, &str)) -> Client {
    let client = static_client(endpoint, "us-east-1", Credentials::new(id, secret, None, None, "test"));
    // moto reports a multipart object's composite CRC32C without the `-N` that tells the SDK
    // not to check it against the whole body; the tests compare SHA-256 themselves.
    let config =
        client.config().to_builder().response_checksum_validation(ResponseChecksumValidation::WhenRequired).build();
    Client::from_conf(config)
}

/// A file of varied bytes, so a misplaced part changes the digest.
fn make_file(dir: &Path, name: &str, len: u64) -> PathBuf {
    let path = dir.join(name);
    let data: Vec<u8> = (0..len).map(|i| ((i * 131 + i / 4093) % 251) as u8).collect();
    std::fs::write(&path, data).unwrap();
    path
}

fn streamdrop(data_dir: &Path, (id, secret): (&str, &str)) -> Command {
    let mut cmd = Command::new(built_binary("streamdrop"));
    cmd.env("STREAMDROP_DATA_DIR", data_dir)
        .env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    cmd
}

fn upload_cmd(data_dir: &Path, server: &Server, endpoint: &str, file: &Path, key: &str) -> Command {
    let mut cmd = streamdrop(data_dir, server.credentials());
    cmd.arg("upload").arg(file).arg(format!("s3://{BUCKET}/{key}")).args([
        "--endpoint-url",
        endpoint,
        "--part-size",
        "5MiB",
        "--json",
    ]);
    cmd
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run streamdrop")).await.unwrap()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "streamdrop failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

async fn object_sha256(client: &Client, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let out = client.get_object().bucket(BUCKET).key(key).send().await.unwrap();
    let body = out.body.collect().await.unwrap().into_bytes();
    Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect()
}

/// Parts the journal in `data_dir` has recorded for this upload.
fn journalled_parts(data_dir: &Path, endpoint: &str, key: &str, file: &Path) -> usize {
    let Ok(store) = Store::open(&data_dir.join("streamdrop.sqlite3")) else { return 0 };
    let upload =
        UploadKey { target: endpoint.to_owned(), dest: ObjectRef::new(BUCKET, key), source_path: file.to_owned() };
    store.find_upload(&upload).ok().flatten().map_or(0, |u| u.parts.len())
}

async fn wait_for_parts(data_dir: &Path, endpoint: &str, key: &str, file: &Path, at_least: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = journalled_parts(data_dir, endpoint, key, file);
        if n >= at_least {
            return n;
        }
        assert!(Instant::now() < deadline, "only {n} parts journalled after 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn kill_9_then_resume(server: Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("client");
    let file = make_file(tmp.path(), "A001 long take.mov", 40 * MIB + 12345);
    let key = "kill/A001 long take.mov";
    let endpoint = server.endpoint();

    // One part at a time, slowly, so the kill lands mid-upload.
    let mut slow = upload_cmd(&data, &server, &endpoint, &file, key);
    slow.args(["--concurrency", "1", "--bandwidth-limit", "12MB/s"]).stdout(Stdio::null()).stderr(Stdio::null());
    let mut first = ChildGuard::spawn("streamdrop upload", &mut slow);
    let before_kill = wait_for_parts(&data, &endpoint, key, &file, 2).await;
    first.child_mut().kill().unwrap(); // SIGKILL: no chance to clean up
    first.child_mut().wait().unwrap();
    let journalled = journalled_parts(&data, &endpoint, key, &file);
    assert!(journalled >= before_kill);

    let result = json(&run(upload_cmd(&data, &server, &endpoint, &file, key)).await);
    let size = std::fs::metadata(&file).unwrap().len();
    let resumed = result["resumed_parts"].as_u64().unwrap();
    assert!(resumed as usize >= journalled, "{result}: the journal had {journalled} parts");
    assert_eq!(result["parts"], 9);
    // Only what the server did not hold was sent again: at most the part in flight at the kill.
    assert_eq!(result["bytes_sent"].as_u64().unwrap(), size - resumed * 5 * MIB, "{result}");
    assert_eq!(result["size"], size);
    assert_eq!(object_sha256(&server.client(), key).await, sha256_file(&file));
    assert_eq!(journalled_parts(&data, &endpoint, key, &file), 0, "a finished upload leaves no journal entry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_upload_then_resume_on_the_embedded_server() {
    let tmp = tempfile::tempdir().unwrap();
    kill_9_then_resume(Server::local(tmp.path()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_upload_then_resume_on_moto() {
    kill_9_then_resume(Server::moto().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_stopping_and_restarting_mid_upload_is_ridden_out() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = DataDir::at(tmp.path().join("server")).unwrap();
    let port = free_port();
    let stack = LocalStack::start(&server_data, local_options(port)).await.unwrap();
    let endpoint = stack.endpoint().to_owned();
    let server = Server::Local { stack: Box::new(stack) };

    let data = tmp.path().join("client");
    let file = make_file(tmp.path(), "restart.mov", 30 * MIB);
    let key = "restart.mov";
    let mut cmd = upload_cmd(&data, &server, &endpoint, &file, key);
    cmd.args(["--concurrency", "2", "--bandwidth-limit", "12MB/s"]);
    let upload = tokio::task::spawn_blocking(move || cmd.output().unwrap());

    wait_for_parts(&data, &endpoint, key, &file, 1).await;
    let Server::Local { stack, .. } = server else { unreachable!() };
    stack.shutdown().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stack = LocalStack::start(&server_data, local_options(port)).await.unwrap();

    let result = json(&upload.await.unwrap());
    assert_eq!(result["size"], 30 * MIB);
    let client = client_for(stack.endpoint(), (KEY_ID, SECRET));
    assert_eq!(object_sha256(&client, key).await, sha256_file(&file));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_resets_and_stalls_are_retried_part_by_part() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::local(tmp.path()).await;
    let Server::Local { stack, .. } = &server else { unreachable!() };
    let upstream = stack.endpoint().trim_start_matches("http://").parse().unwrap();
    let proxy = FaultProxy::start(upstream);

    proxy.inject(Match::create_multipart_upload(), Fault::Status(503, "SlowDown"), 1);
    proxy.inject(Match::upload_part_number(2), Fault::Status(503, "SlowDown"), 2);
    proxy.inject(Match::upload_part_number(3), Fault::ResetMidBody { after_bytes: 1024 * 1024 }, 1);
    proxy.inject(Match::upload_part_number(4), Fault::Stall(Duration::from_secs(30)), 1);
    proxy.inject(Match::upload_part_number(5), Fault::Status(500, "InternalError"), 1);
    proxy.inject(Match::complete_multipart_upload(), Fault::DropResponse, 1);

    let data = tmp.path().join("client");
    let file = make_file(tmp.path(), "flaky network.mov", 27 * MIB);
    let key = "flaky/flaky network.mov";
    let mut cmd = upload_cmd(&data, &server, &proxy.endpoint(), &file, key);
    cmd.args(["--concurrency", "3", "--stall-timeout", "2"]);
    let result = json(&run(cmd).await);
    assert_eq!(result["parts"], 6);
    assert_eq!(object_sha256(&server.client(), key).await, sha256_file(&file));
    assert_eq!(proxy.pending_faults(), 0, "every fault was hit");

    // Each failed part was retried alone; the others went once.
    let tries = |n: u32| proxy.requests_matching(&Match::upload_part_number(n)).len();
    assert_eq!((tries(1), tries(2), tries(3), tries(4), tries(5), tries(6)), (1, 3, 2, 2, 2, 1));
}

/// A part damaged between client and server is refused by the embedded
/// server's checksum check (400 BadDigest, as AWS does), and that part alone is
/// sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_damaged_in_transit_is_refused_by_the_embedded_server_and_resent_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::local(tmp.path()).await;
    let (proxy, file, key) = damage_part_2(&server, tmp.path());
    let result = json(&run(upload_cmd(&tmp.path().join("client"), &server, &proxy.endpoint(), &file, key)).await);
    assert_eq!(result["parts"], 4);
    assert_eq!(proxy.pending_faults(), 0, "the damage was done");
    let part2 = proxy.requests_matching(&Match::upload_part_number(2));
    let statuses: Vec<_> = part2.iter().map(|r| r.upstream_status).collect();
    assert_eq!(statuses, [Some(400), Some(200)], "the damaged part was refused, then resent");
    assert_eq!(part2[0].body_bytes, 5 * MIB, "the damaged copy reached the server in full");
    for n in [1, 3, 4] {
        assert_eq!(proxy.requests_matching(&Match::upload_part_number(n)).len(), 1, "part {n} went once");
    }
    assert_eq!(object_sha256(&server.client(), key).await, sha256_file(&file));
}

/// moto stores parts without checking them. The damage is then caught when the
/// finished object's CRC32C is checked: the upload fails clearly, and the same
/// command uploads the file again whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_damaged_in_transit_on_moto_fails_the_check_of_the_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::moto().await;
    let (proxy, file, key) = damage_part_2(&server, tmp.path());
    let data = tmp.path().join("client");
    let mut verbose = upload_cmd(&data, &server, &proxy.endpoint(), &file, key);
    verbose.arg("--verbose");
    let out = run(verbose).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a damaged object must not count as uploaded");
    let (sentence, detail) =
        stderr.split_once("\n  detail: ").unwrap_or_else(|| panic!("--verbose shows the detail: {stderr}"));
    assert!(sentence.contains("The upload did not arrive intact") && !sentence.contains("CRC32C"), "{stderr}");
    assert!(detail.contains("CRC32C"), "the detail says how it was found: {stderr}");

    let result = json(&run(upload_cmd(&data, &server, &proxy.endpoint(), &file, key)).await);
    assert_eq!(result["bytes_sent"], 17 * MIB, "{result}");
    assert_eq!(object_sha256(&server.client(), key).await, sha256_file(&file));
}

/// The embedded server reads objects its own way (1 MiB reads): whole objects
/// and ranges across read boundaries come back exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_server_returns_exact_bytes_for_whole_objects_and_ranges() {
    use aws_sdk_s3::primitives::ByteStream;
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::local(tmp.path()).await;
    let client = server.client();
    let data: Vec<u8> = (0..3 * MIB + 777).map(|i| ((i * 131 + i / 4093) % 251) as u8).collect();
    client.put_object().bucket(BUCKET).key("reads/clip.mov").body(ByteStream::from(data.clone())).send().await.unwrap();
    let get = |range: Option<&str>| {
        let request = client.get_object().bucket(BUCKET).key("reads/clip.mov").set_range(range.map(str::to_owned));
        async move { request.send().await.unwrap().body.collect().await.unwrap().into_bytes().to_vec() }
    };
    assert!(get(None).await == data, "the whole object");
    let m = MIB as usize;
    assert!(
        get(Some(&format!("bytes={}-{}", m - 5, 2 * m + 5))).await == data[m - 5..=2 * m + 5],
        "a range across reads"
    );
    assert!(get(Some("bytes=-1000")).await == data[data.len() - 1000..], "a suffix range");
    assert!(get(Some(&format!("bytes={}-", 3 * m))).await == data[3 * m..], "an open range");
}

/// A proxy in front of `server` that damages one byte of part 2, once; and a 4-part file.
fn damage_part_2(server: &Server, dir: &Path) -> (FaultProxy, PathBuf, &'static str) {
    let upstream = server.endpoint().trim_start_matches("http://").parse().unwrap();
    let proxy = FaultProxy::start(upstream);
    proxy.inject(Match::upload_part_number(2), Fault::CorruptBody { at_byte: 3 * MIB + 17 }, 1);
    let file = make_file(dir, "damaged in transit.mov", 17 * MIB);
    (proxy, file, "damaged/damaged in transit.mov")
}

/// The embedded server holds multipart uploads to AWS's checksum rules (s3s-fs
/// alone stores any part and reports no checksum for the object).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_server_checks_multipart_checksums_as_aws_does() {
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart};
    use base64::Engine as _;
    let b64 = |crc: u32| base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes());

    let tmp = tempfile::tempdir().unwrap();
    let server = Server::local(tmp.path()).await;
    let client = server.client();
    let key = "checks/clip.mov";
    let part1: Vec<u8> = (0..5 * MIB).map(|i| (i % 253) as u8).collect();
    let part2: Vec<u8> = (0..MIB + 3).map(|i| (i % 241) as u8).collect();
    let whole = [part1.as_slice(), part2.as_slice()].concat();

    // An object already there, with a checksum of its own, that the upload replaces.
    client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from_static(b"old"))
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .unwrap();

    let upload = client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap();
    let send_part = |number: i32, body: &[u8], crc: String| {
        client
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .checksum_crc32_c(crc)
            .body(ByteStream::from(body.to_vec()))
            .send()
    };

    // A part whose bytes do not match its declared CRC32C is refused and not stored.
    let refused = send_part(1, &part1, b64(crc32c::crc32c(&part1) ^ 1)).await.unwrap_err();
    assert_eq!(refused.as_service_error().and_then(|e| e.meta().code()), Some("BadDigest"), "{refused:?}");
    let listed = client.list_parts().bucket(BUCKET).key(key).upload_id(upload_id).send().await.unwrap();
    assert!(listed.parts().is_empty(), "a refused part is not stored: {listed:?}");

    let sent1 = send_part(1, &part1, b64(crc32c::crc32c(&part1))).await.unwrap();
    assert_eq!(sent1.checksum_crc32_c(), Some(b64(crc32c::crc32c(&part1)).as_str()));
    // The value may also come after the body, in the aws-chunked trailer.
    let part2_file = tmp.path().join("part2");
    std::fs::write(&part2_file, &part2).unwrap();
    let sent2 = client
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .part_number(2)
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .body(ByteStream::from_path(&part2_file).await.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(sent2.checksum_crc32_c(), Some(b64(crc32c::crc32c(&part2)).as_str()));

    // ListParts tells what each stored part is, which resuming relies on.
    let listed = client.list_parts().bucket(BUCKET).key(key).upload_id(upload_id).send().await.unwrap();
    let seen: Vec<_> = listed
        .parts()
        .iter()
        .map(|p| (p.part_number(), p.size(), p.e_tag().map(str::to_owned), p.checksum_crc32_c().map(str::to_owned)))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(1), Some(part1.len() as i64), sent1.e_tag().map(str::to_owned), Some(b64(crc32c::crc32c(&part1)))),
            (Some(2), Some(part2.len() as i64), sent2.e_tag().map(str::to_owned), Some(b64(crc32c::crc32c(&part2)))),
        ]
    );

    let completed = |crc1: u32| {
        CompletedMultipartUpload::builder()
            .parts(
                CompletedPart::builder()
                    .part_number(1)
                    .e_tag(sent1.e_tag().unwrap())
                    .checksum_crc32_c(b64(crc1))
                    .build(),
            )
            .parts(CompletedPart::builder().part_number(2).e_tag(sent2.e_tag().unwrap()).build())
            .build()
    };
    let complete = |parts: CompletedMultipartUpload, object_crc: u32| {
        client
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(parts)
            .checksum_crc32_c(b64(object_crc))
            .checksum_type(ChecksumType::FullObject)
            .send()
    };
    let whole_crc = crc32c::crc32c(&whole);
    let wrong_part = complete(completed(crc32c::crc32c(&part2)), whole_crc).await.unwrap_err();
    assert_eq!(wrong_part.as_service_error().and_then(|e| e.meta().code()), Some("InvalidPart"), "{wrong_part:?}");
    let wrong_whole = complete(completed(crc32c::crc32c(&part1)), whole_crc ^ 1).await.unwrap_err();
    assert_eq!(wrong_whole.as_service_error().and_then(|e| e.meta().code()), Some("BadDigest"), "{wrong_whole:?}");

    let done = complete(completed(crc32c::crc32c(&part1)), whole_crc).await.unwrap();
    assert_eq!(done.checksum_crc32_c(), Some(b64(whole_crc).as_str()));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::FullObject));
    let head = client.head_object().bucket(BUCKET).key(key).checksum_mode(ChecksumMode::Enabled).send().await.unwrap();
    assert_eq!(head.checksum_crc32_c(), Some(b64(whole_crc).as_str()), "the object's CRC32C is on record");
    assert_eq!(head.checksum_sha256(), None, "the replaced object's checksum is gone");
    assert_eq!(head.content_length(), Some(whole.len() as i64));
    assert!(
        std::fs::read_dir(tmp.path().join("server/local-s3-parts")).unwrap().next().is_none(),
        "the ledger forgets finished uploads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_modified_mid_upload_is_never_mixed_with_its_old_version() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::local(tmp.path()).await;
    let endpoint = server.endpoint();
    let data = tmp.path().join("client");
    let file = make_file(tmp.path(), "growing.mov", 20 * MIB);
    let key = "growing.mov";

    let mut cmd = upload_cmd(&data, &server, &endpoint, &file, key);
    cmd.args(["--concurrency", "1", "--bandwidth-limit", "10MB/s"]);
    let upload = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    wait_for_parts(&data, &endpoint, key, &file, 1).await;
    // The camera app appends more footage.
    let mut grown = std::fs::read(&file).unwrap();
    grown.extend(std::iter::repeat_n(7u8, 3 * MIB as usize));
    std::fs::write(&file, &grown).unwrap();

    let out = upload.await.unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("growing.mov changed while it was being uploaded"), "{stderr}");
    assert!(server.client().head_object().bucket(BUCKET).key(key).send().await.is_err(), "no object was made");

    // Re-running refuses to resume with parts of the old version...
    let out = run(upload_cmd(&data, &server, &endpoint, &file, key)).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--restart"), "{stderr}");

    // ...and --restart uploads the new version whole.
    let mut restart = upload_cmd(&data, &server, &endpoint, &file, key);
    restart.arg("--restart");
    let result = json(&run(restart).await);
    assert_eq!(result["resumed_parts"], 0);
    assert_eq!(object_sha256(&server.client(), key).await, sha256_file(&file));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_files_and_unicode_names_on_both_servers() {
    let tmp = tempfile::tempdir().unwrap();
    for server in [Server::local(tmp.path()).await, Server::moto().await] {
        let endpoint = server.endpoint();
        let data = tmp.path().join(format!("client-{}", free_port()));

        let empty = make_file(tmp.path(), "empty take.mov", 0);
        let result = json(&run(upload_cmd(&data, &server, &endpoint, &empty, "empty/empty take.mov")).await);
        assert_eq!((result["size"].as_u64(), result["parts"].as_u64()), (Some(0), Some(0)));
        let head = server.client().head_object().bucket(BUCKET).key("empty/empty take.mov").send().await.unwrap();
        assert_eq!(head.content_length(), Some(0));

        let named = make_file(tmp.path(), "Interview — café take 1 (ß).mov", 11 * MIB);
        let key = "projects/été 2026/Interview — café take 1 (ß) #2.mov";
        let result = json(&run(upload_cmd(&data, &server, &endpoint, &named, key)).await);
        assert_eq!(result["key"], key);
        assert_eq!(result["parts"], 3);
        assert_eq!(object_sha256(&server.client(), key).await, sha256_file(&named), "{endpoint}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_unreadable_files_fail_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::local(tmp.path()).await;
    let endpoint = server.endpoint();
    let data = tmp.path().join("client");

    let out = run(upload_cmd(&data, &server, &endpoint, &tmp.path().join("gone.mov"), "gone.mov")).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));

    // Root reads anything, so run as an unprivileged user to meet a real permission error.
    let locked = make_file(tmp.path(), "locked.mov", 1000);
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    for dir in [tmp.path().to_path_buf(), data.clone()] {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    }
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(built_binary("streamdrop"))
        .args(["upload"])
        .arg(&locked)
        .args([&format!("s3://{BUCKET}/locked.mov"), "--endpoint-url", &endpoint])
        .env("STREAMDROP_DATA_DIR", &data)
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET);
    let out = run(cmd).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read") && stderr.contains("locked.mov"), "{stderr}");
}

async fn copy_in_parts(server: Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("client");
    let endpoint = server.endpoint();
    let file = make_file(tmp.path(), "master.mov", 12 * MIB + 7);
    json(&run(upload_cmd(&data, &server, &endpoint, &file, "raw/master.mov")).await);

    let copy = |extra: &[&str]| {
        let mut cmd = streamdrop(&data, server.credentials());
        cmd.args(["copy", &format!("s3://{BUCKET}/raw/master.mov")])
            .arg(format!("s3://{BUCKET}/dist/master copy {}.mov", extra.len()))
            .args(["--endpoint-url", &endpoint, "--json"])
            .args(extra);
        cmd
    };
    // Below the threshold: one CopyObject. Above it: UploadPartCopy in parallel.
    let whole = json(&run(copy(&[])).await);
    assert_eq!(whole["parts"], 0);
    let parts = json(&run(copy(&["--multipart-threshold", "5MiB", "--part-size", "5MiB"])).await);
    assert_eq!(parts["parts"], 3);
    assert_eq!(parts["size"], 12 * MIB + 7);
    let client = server.client();
    for key in ["dist/master copy 0.mov", "dist/master copy 4.mov"] {
        assert_eq!(object_sha256(&client, key).await, sha256_file(&file), "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_copy_on_the_embedded_server() {
    let tmp = tempfile::tempdir().unwrap();
    copy_in_parts(Server::local(tmp.path()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_copy_on_moto() {
    copy_in_parts(Server::moto().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_and_sigterm_stop_cleanly_and_the_same_command_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::local(tmp.path()).await;
    let endpoint = server.endpoint();
    let data = tmp.path().join("client");
    let file = make_file(tmp.path(), "interrupted.mov", 30 * MIB);
    let key = "interrupted.mov";

    for signal in ["-INT", "-TERM"] {
        let mut slow = upload_cmd(&data, &server, &endpoint, &file, key);
        slow.args(["--concurrency", "1", "--bandwidth-limit", "10MB/s"]).stderr(Stdio::piped());
        let mut upload = ChildGuard::spawn("streamdrop upload", &mut slow);
        let parts = journalled_parts(&data, &endpoint, key, &file);
        wait_for_parts(&data, &endpoint, key, &file, parts + 1).await;
        Command::new("kill").arg(signal).arg(upload.pid().to_string()).status().unwrap();
        let out = tokio::task::block_in_place(|| upload.child_mut().wait_with_output_ref());
        assert_eq!(out.0.code(), Some(130), "{signal}: {}", out.1);
        assert!(out.1.contains("run the same command again to resume"), "{signal}: {}", out.1);
    }
    let resumed_from = journalled_parts(&data, &endpoint, key, &file);
    assert!(resumed_from >= 2);
    let result = json(&run(upload_cmd(&data, &server, &endpoint, &file, key)).await);
    assert!(result["resumed_parts"].as_u64().unwrap() >= resumed_from as u64, "{result}");
    assert_eq!(object_sha256(&server.client(), key).await, sha256_file(&file));
}

/// Waits for a child that is owned by a guard, returning its status and stderr.
trait WaitWithOutputRef {
    fn wait_with_output_ref(&mut self) -> (std::process::ExitStatus, String);
}

impl WaitWithOutputRef for std::process::Child {
    fn wait_with_output_ref(&mut self) -> (std::process::ExitStatus, String) {
        use std::io::Read;
        let mut stderr = String::new();
        if let Some(mut pipe) = self.stderr.take() {
            pipe.read_to_string(&mut stderr).unwrap();
        }
        (self.wait().unwrap(), stderr)
    }
}

/// A server that answers something that is not S3 (here, a proxy's broken XML
/// page of several kilobytes): one plain sentence, not the body; the detail
/// only with --verbose, and bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_is_not_s3_reads_as_one_sentence() {
    const PAGE: &str = concat!(
        "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>streamdrop-uploads</Bucket><Key>x</Key><UploadId>",
        "<<<proxy says: upstream unavailable; retry later>>> ",
        "<html><body><h1>502 Bad Gateway</h1><p>The proxy server received an invalid response from an upstream server.</p></body></html>"
    );
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::local(tmp.path()).await;
    let Server::Local { stack, .. } = &server else { unreachable!() };
    let proxy = FaultProxy::start(stack.endpoint().trim_start_matches("http://").parse().unwrap());
    proxy.inject(Match::create_multipart_upload(), Fault::Reply(200, PAGE), 1);
    let file = make_file(tmp.path(), "proxied.mov", 12 * MIB);

    let out = run(upload_cmd(&tmp.path().join("client"), &server, &proxy.endpoint(), &file, "proxied.mov")).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said: Vec<&str> = stderr.lines().filter(|l| l.starts_with("streamdrop: ")).collect();
    assert_eq!(
        said,
        ["streamdrop: The storage sent a reply Streamdrop could not read. Retry; if it keeps happening, the server may not be S3-compatible."],
        "{stderr}"
    );
    assert!(!stderr.contains("Bad Gateway") && !stderr.contains("<html>"), "no reply body without --verbose: {stderr}");
}
