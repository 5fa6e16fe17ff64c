//! The harness itself: the fault-injecting proxy in front of the embedded S3
//! server (and of moto's), and moto's server as a second S3 implementation,
//! driven by aws-sdk-s3 as the transfer engine drives it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use streamdrop_core::stack::{LocalStack, LocalStackOptions, LOCAL_REGION, LOCAL_UPLOADS_BUCKET};
use streamdrop_core::storage::static_client;
use streamdrop_core::DataDir;
use streamdrop_e2e::fault_proxy::{Fault, FaultProxy, Match, SeenRequest};
use streamdrop_e2e::moto::{MotoServer, MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};

const MIB: usize = 1024 * 1024;

/// Deterministic, non-repeating test bytes.
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn addr_of(endpoint: &str) -> SocketAddr {
    endpoint.trim_start_matches("http://").trim_end_matches('/').parse().expect("http://IP:PORT endpoint")
}

struct Embedded {
    stack: LocalStack,
    _dir: tempfile::TempDir,
}

impl Embedded {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::at(dir.path().join("data")).unwrap();
        let stack = LocalStack::start(&data, LocalStackOptions::default()).await.unwrap();
        Self { stack, _dir: dir }
    }

    fn addr(&self) -> SocketAddr {
        addr_of(self.stack.endpoint())
    }

    fn credentials(&self) -> Credentials {
        let c = self.stack.credentials();
        Credentials::new(c.access_key_id(), c.secret_access_key(), None, None, "harness-test")
    }

    /// Straight to the server, with the SDK's own retries.
    fn direct(&self) -> Client {
        static_client(self.stack.endpoint(), LOCAL_REGION, self.credentials())
    }

    /// Through `endpoint` (the proxy) with retries off, so each fault is seen.
    fn via(&self, endpoint: &str) -> Client {
        no_retries(static_client(endpoint, LOCAL_REGION, self.credentials()), None)
    }
}

fn no_retries(client: Client, attempt_timeout: Option<Duration>) -> Client {
    let mut config = client.config().to_builder().retry_config(RetryConfig::disabled());
    if let Some(timeout) = attempt_timeout {
        config = config.timeout_config(TimeoutConfig::builder().operation_attempt_timeout(timeout).build());
    }
    Client::from_conf(config.build())
}

fn describe<E: std::fmt::Debug, R: std::fmt::Debug>(err: &SdkError<E, R>) -> String {
    match err {
        SdkError::DispatchFailure(failure) => {
            let kind = failure.as_connector_error().map(|c| {
                format!("io={} timeout={} user={} other={}", c.is_io(), c.is_timeout(), c.is_user(), c.is_other())
            });
            format!("DispatchFailure({kind:?}): {err:?}")
        }
        other => format!("{other:?}"),
    }
}

async fn create_upload(client: &Client, bucket: &str, key: &str) -> String {
    let created = client.create_multipart_upload().bucket(bucket).key(key).send().await.unwrap();
    created.upload_id().expect("an upload id").to_owned()
}

async fn list_part_numbers(client: &Client, bucket: &str, key: &str, upload_id: &str) -> Vec<(i32, i64)> {
    let listed = client.list_parts().bucket(bucket).key(key).upload_id(upload_id).send().await.unwrap();
    listed.parts().iter().map(|p| (p.part_number().unwrap_or_default(), p.size().unwrap_or_default())).collect()
}

async fn upload_part(
    client: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    number: i32,
    bytes: &[u8],
) -> Result<CompletedPart, String> {
    let uploaded = client
        .upload_part()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .part_number(number)
        .body(ByteStream::from(bytes.to_vec()))
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(CompletedPart::builder().part_number(number).set_e_tag(uploaded.e_tag().map(str::to_owned)).build())
}

async fn complete(
    client: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: Vec<CompletedPart>,
) -> Result<(), SdkError<aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadError>> {
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .map(|_| ())
}

async fn get_bytes(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let object = client.get_object().bucket(bucket).key(key).send().await.unwrap();
    object.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_passes_signed_6_mib_put_and_get_through_unchanged_on_kept_alive_connections() {
    let server = Embedded::start().await;
    let proxy = FaultProxy::start(server.addr());
    let client = server.via(&proxy.endpoint());
    let body = payload(6 * MIB, 1);

    client
        .put_object()
        .bucket(LOCAL_UPLOADS_BUCKET)
        .key("clips/six.bin")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject through the proxy: {}", describe(&e)));
    let head = server.direct().head_object().bucket(LOCAL_UPLOADS_BUCKET).key("clips/six.bin").send().await.unwrap();
    assert_eq!(head.content_length(), Some(body.len() as i64), "upstream stored the whole body");
    let fetched = get_bytes(&client, LOCAL_UPLOADS_BUCKET, "clips/six.bin").await;
    assert!(fetched == body, "GetObject through the proxy returned different bytes ({} bytes)", fetched.len());
    for _ in 0..3 {
        client.head_object().bucket(LOCAL_UPLOADS_BUCKET).key("clips/six.bin").send().await.unwrap();
    }

    let seen = proxy.requests();
    let puts: Vec<&SeenRequest> = seen.iter().filter(|r| Match::put_object().matches(r)).collect();
    assert_eq!(puts.len(), 1, "{seen:#?}");
    assert_eq!(puts[0].status, Some(200));
    assert_eq!(puts[0].upstream_status, Some(200));
    assert!(puts[0].forwarded && puts[0].fault.is_none());
    assert!(puts[0].body_bytes >= body.len() as u64, "the whole body went upstream: {:?}", puts[0]);
    assert_eq!(puts[0].path, "/streamdrop-uploads/clips/six.bin");
    let gets = proxy.requests_matching(&Match::get_object());
    assert_eq!(gets.len(), 1, "{seen:#?}");
    assert_eq!(gets[0].response_bytes, body.len() as u64);
    assert_eq!(seen.len(), 5, "{seen:#?}");
    assert!(seen.iter().all(|r| r.status == Some(200) && r.fault.is_none()), "{seen:#?}");
    let mut connections: Vec<u64> = seen.iter().map(|r| r.connection).collect();
    connections.dedup();
    assert!(connections.len() < seen.len(), "the SDK reuses its connection through the proxy: {connections:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_slow_down_and_internal_error_are_s3_errors_and_the_next_attempt_succeeds() {
    let server = Embedded::start().await;
    let proxy = FaultProxy::start(server.addr());
    let client = server.via(&proxy.endpoint());
    let body = payload(256 * 1024, 2);
    let put = || client.put_object().bucket(LOCAL_UPLOADS_BUCKET).key("slow.bin").body(ByteStream::from(body.clone()));

    proxy.inject(Match::put_object(), Fault::Status(503, "SlowDown"), 1);
    assert_eq!(proxy.pending_faults(), 1);
    let err = put().send().await.expect_err("the proxy answers 503");
    eprintln!("503 SlowDown on PutObject -> {}", describe(&err));
    assert!(matches!(err, SdkError::ServiceError(_)), "{}", describe(&err));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(err.code(), Some("SlowDown"));
    assert_eq!(proxy.pending_faults(), 0);
    put().send().await.unwrap_or_else(|e| panic!("second PutObject: {}", describe(&e)));

    let puts = proxy.requests_matching(&Match::put_object());
    assert_eq!(puts.len(), 2, "{puts:#?}");
    assert_eq!(puts[0].fault, Some(Fault::Status(503, "SlowDown")));
    assert_eq!(puts[0].status, Some(503));
    assert!(!puts[0].forwarded);
    assert!(puts[0].body_bytes >= body.len() as u64, "the body was drained: {:?}", puts[0]);
    assert_eq!(puts[1].fault, None);
    assert_eq!(puts[1].status, Some(200));
    assert!(puts[1].forwarded);

    proxy.inject(Match::get_object(), Fault::Status(500, "InternalError"), 1);
    let err = client.get_object().bucket(LOCAL_UPLOADS_BUCKET).key("slow.bin").send().await.expect_err("500");
    eprintln!("500 InternalError on GetObject -> {}", describe(&err));
    assert!(matches!(err, SdkError::ServiceError(_)), "{}", describe(&err));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(err.code(), Some("InternalError"));
    assert!(get_bytes(&client, LOCAL_UPLOADS_BUCKET, "slow.bin").await == body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_upload_part_stores_no_part_and_a_retry_completes_the_upload() {
    let server = Embedded::start().await;
    let proxy = FaultProxy::start(server.addr());
    let client = server.via(&proxy.endpoint());
    let direct = server.direct();
    let (bucket, key) = (LOCAL_UPLOADS_BUCKET, "clips/multi.bin");
    let part = payload(5 * MIB, 3);

    let upload_id = create_upload(&client, bucket, key).await;
    proxy.inject(Match::upload_part_number(1), Fault::ResetMidBody { after_bytes: MIB as u64 }, 1);
    let started = Instant::now();
    let err = upload_part(&client, bucket, key, &upload_id, 1, &part).await.expect_err("the proxy resets");
    eprintln!("reset mid-body on UploadPart -> {err} (after {:?})", started.elapsed());
    assert!(err.starts_with("DispatchFailure"), "{err}");
    assert!(
        list_part_numbers(&direct, bucket, key, &upload_id).await.is_empty(),
        "a truncated part must not be stored"
    );

    let first = upload_part(&client, bucket, key, &upload_id, 1, &part).await.unwrap();
    assert_eq!(list_part_numbers(&direct, bucket, key, &upload_id).await, [(1, part.len() as i64)]);

    proxy.inject(Match::complete_multipart_upload(), Fault::Status(500, "InternalError"), 1);
    let err = complete(&client, bucket, key, &upload_id, vec![first.clone()]).await.expect_err("500");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(err.code(), Some("InternalError"));
    complete(&client, bucket, key, &upload_id, vec![first]).await.unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert!(get_bytes(&direct, bucket, key).await == part);

    let attempts = proxy.requests_matching(&Match::upload_part_number(1));
    assert_eq!(attempts.len(), 2, "{attempts:#?}");
    assert_eq!(attempts[0].fault, Some(Fault::ResetMidBody { after_bytes: MIB as u64 }));
    assert_eq!(attempts[0].status, None, "the client got no response");
    assert_eq!(attempts[0].body_bytes, MIB as u64, "exactly after_bytes went upstream");
    assert_eq!(attempts[1].status, Some(200));
    assert_eq!(attempts[0].upload_id().as_deref(), Some(upload_id.as_str()));
    let completes = proxy.requests_matching(&Match::complete_multipart_upload());
    let statuses: Vec<_> = completes.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(500), Some(200)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_response_and_reset_mid_response_reach_the_client_as_transport_errors() {
    let server = Embedded::start().await;
    let proxy = FaultProxy::start(server.addr());
    let client = server.via(&proxy.endpoint());
    let direct = server.direct();
    let (bucket, key) = (LOCAL_UPLOADS_BUCKET, "clips/dropped.bin");
    let part = payload(5 * MIB, 4);

    // CompleteMultipartUpload succeeds upstream but the client never hears so.
    let upload_id = create_upload(&client, bucket, key).await;
    let done = upload_part(&client, bucket, key, &upload_id, 1, &part).await.unwrap();
    proxy.inject(Match::complete_multipart_upload(), Fault::DropResponse, 1);
    let err = complete(&client, bucket, key, &upload_id, vec![done.clone()]).await.expect_err("no response");
    eprintln!("dropped response on CompleteMultipartUpload -> {}", describe(&err));
    assert!(matches!(err, SdkError::DispatchFailure(_) | SdkError::ResponseError(_)), "{}", describe(&err));
    let head = direct.head_object().bucket(bucket).key(key).send().await.unwrap();
    assert_eq!(head.content_length(), Some(part.len() as i64), "upstream completed the upload");
    let again = complete(&client, bucket, key, &upload_id, vec![done]).await;
    eprintln!("CompleteMultipartUpload again after it succeeded -> {:?}", again.as_ref().map_err(describe));
    let dropped = &proxy.requests_matching(&Match::complete_multipart_upload())[0];
    assert_eq!((dropped.upstream_status, dropped.status), (Some(200), None), "{dropped:?}");

    // GetObject: the head arrives, the body is cut after 1 MiB.
    proxy.inject(Match::get_object(), Fault::ResetMidResponse { after_bytes: MIB as u64 }, 1);
    let object = client.get_object().bucket(bucket).key(key).send().await;
    let outcome = match object {
        Err(err) => format!("send failed: {}", describe(&err)),
        Ok(object) => match object.body.collect().await {
            Ok(bytes) => panic!("the body was cut, yet {} bytes arrived", bytes.into_bytes().len()),
            Err(err) => format!("body failed: {err:?}"),
        },
    };
    eprintln!("reset mid-response on GetObject -> {outcome}");
    let get = &proxy.requests_matching(&Match::get_object())[0];
    assert_eq!(get.status, Some(200));
    assert_eq!(get.response_bytes, MIB as u64);
    assert!(get_bytes(&client, bucket, key).await == part, "the next GetObject is whole");
}

/// A plain `#[test]`: the proxy needs no runtime from its caller.
#[test]
fn stall_outlasts_the_attempt_timeout_and_other_requests_still_pass() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = runtime.block_on(Embedded::start());
    let proxy = FaultProxy::start(server.addr());
    let client =
        no_retries(static_client(&proxy.endpoint(), LOCAL_REGION, server.credentials()), Some(Duration::from_secs(1)));
    let put = |key: &'static str| {
        client.put_object().bucket(LOCAL_UPLOADS_BUCKET).key(key).body(ByteStream::from(payload(64 * 1024, 5))).send()
    };

    proxy.inject(Match::put_object(), Fault::Stall(Duration::from_secs(3)), 1);
    let started = Instant::now();
    let err = runtime.block_on(put("stalled.bin")).expect_err("the attempt times out");
    let waited = started.elapsed();
    eprintln!("stall on PutObject -> {} after {waited:?}", describe(&err));
    assert!(matches!(err, SdkError::TimeoutError(_)), "{}", describe(&err));
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_millis(2500), "{waited:?}");

    let started = Instant::now();
    runtime.block_on(put("after.bin")).unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert!(started.elapsed() < Duration::from_millis(1500), "the proxy is not blocked by the stall");
    let head = runtime.block_on(server.direct().head_object().bucket(LOCAL_UPLOADS_BUCKET).key("stalled.bin").send());
    assert!(head.is_err(), "a stalled request never reaches upstream");

    let puts = proxy.requests_matching(&Match::put_object());
    assert_eq!(puts.len(), 2, "{puts:#?}");
    assert_eq!(puts[0].fault, Some(Fault::Stall(Duration::from_secs(3))));
    assert_eq!((puts[0].forwarded, puts[0].status), (false, None));
    assert_eq!(puts[1].status, Some(200));
    drop(proxy);
    drop(server);
}

/// An upstream that answers every request with what it received.
fn start_echo_upstream(runtime: &tokio::runtime::Runtime) -> SocketAddr {
    use http_body_util::{BodyExt, Full};
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let head = format!(
                        "{} {} host={} expect={} te={}",
                        req.method(),
                        req.uri(),
                        req.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or("-"),
                        req.headers().get("expect").and_then(|v| v.to_str().ok()).unwrap_or("-"),
                        req.headers().get("transfer-encoding").and_then(|v| v.to_str().ok()).unwrap_or("-"),
                    );
                    let body = req.into_body().collect().await?.to_bytes();
                    let text = format!("{head} body={} crc32c={:08x}", body.len(), crc32c::crc32c(&body));
                    Ok::<_, hyper::Error>(hyper::Response::new(Full::new(bytes::Bytes::from(text))))
                });
                let io = hyper_util::rt::TokioIo::new(socket);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    addr
}

/// Reads one final response (skipping 1xx unless `stop_at_interim`): status and body.
fn read_response(reader: &mut BufReader<TcpStream>, stop_at_interim: bool) -> (u16, String) {
    loop {
        let mut status_line = String::new();
        reader.read_line(&mut status_line).unwrap();
        let status: u16 =
            status_line.split_whitespace().nth(1).unwrap_or_else(|| panic!("{status_line:?}")).parse().unwrap();
        let mut length = None;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = Some(value.trim().parse::<usize>().unwrap()),
                "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
        if (100..200).contains(&status) {
            if stop_at_interim {
                return (status, String::new());
            }
            continue;
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size).unwrap();
                let size = usize::from_str_radix(size.trim(), 16).unwrap();
                let mut chunk = vec![0; size + 2];
                reader.read_exact(&mut chunk).unwrap();
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            body.resize(length.unwrap_or(0), 0);
            reader.read_exact(&mut body).unwrap();
        }
        return (status, String::from_utf8(body).unwrap());
    }
}

/// A plain `#[test]` on one raw keep-alive connection: `Expect: 100-continue`,
/// an injected error between forwarded requests, a chunked body, and the Host
/// header passed through as the client sent it.
#[test]
fn one_keep_alive_connection_carries_expect_continue_an_injected_error_and_chunked_bodies() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let upstream = start_echo_upstream(&runtime);
    let proxy = FaultProxy::start(upstream);
    let host = proxy.addr().to_string();
    let stream = TcpStream::connect(proxy.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let body = payload(300_000, 6);

    let mut put_expecting = |path: &str| {
        write!(
            writer,
            "PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        )
        .unwrap();
        assert_eq!(read_response(&mut reader, true).0, 100, "the proxy asks for the body");
        writer.write_all(&body).unwrap();
        read_response(&mut reader, false)
    };
    let (status, echoed) = put_expecting("/bucket/one?x-id=PutObject");
    assert_eq!(status, 200);
    let crc = crc32c::crc32c(&body);
    assert_eq!(
        echoed,
        format!("PUT /bucket/one?x-id=PutObject host={host} expect=100-continue te=- body=300000 crc32c={crc:08x}")
    );

    proxy.inject(Match::put_object(), Fault::Status(503, "SlowDown"), 1);
    let (status, error) = put_expecting("/bucket/two");
    assert_eq!(status, 503);
    assert!(error.contains("<Error><Code>SlowDown</Code><Message>"), "{error}");

    let mut writer = reader.get_ref().try_clone().unwrap();
    let mut put_chunked = |path: &str| {
        write!(writer, "PUT {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
        for chunk in [&body[..1000], &body[1000..70_000], &body[70_000..]] {
            write!(writer, "{:x}\r\n", chunk.len()).unwrap();
            writer.write_all(chunk).unwrap();
            writer.write_all(b"\r\n").unwrap();
        }
        writer.write_all(b"0\r\n\r\n").unwrap();
        read_response(&mut reader, false)
    };
    let (status, echoed) = put_chunked("/bucket/three");
    assert_eq!(status, 200);
    assert_eq!(echoed, format!("PUT /bucket/three host={host} expect=- te=chunked body=300000 crc32c={crc:08x}"));

    // Damage lands on exactly one bit of the byte asked for, here the first of a chunk.
    proxy.inject(Match::put_object(), Fault::CorruptBody { at_byte: 70_000 }, 1);
    let (status, echoed) = put_chunked("/bucket/four");
    let mut damaged = body.clone();
    damaged[70_000] ^= 1;
    assert_eq!(status, 200);
    assert_eq!(
        echoed,
        format!("PUT /bucket/four host={host} expect=- te=chunked body=300000 crc32c={:08x}", crc32c::crc32c(&damaged))
    );

    write!(reader.get_ref(), "GET /bucket/one HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    assert_eq!(
        read_response(&mut reader, false),
        (200, format!("GET /bucket/one host={host} expect=- te=- body=0 crc32c={:08x}", crc32c::crc32c(b"")))
    );

    let seen = proxy.requests();
    let summary: Vec<_> = seen.iter().map(|r| (r.connection, r.method.as_str(), r.path.as_str(), r.status)).collect();
    assert_eq!(
        summary,
        [
            (0, "PUT", "/bucket/one", Some(200)),
            (0, "PUT", "/bucket/two", Some(503)),
            (0, "PUT", "/bucket/three", Some(200)),
            (0, "PUT", "/bucket/four", Some(200)),
            (0, "GET", "/bucket/one", Some(200)),
        ]
    );
    assert_eq!(seen[0].query, "x-id=PutObject");
    assert!(seen[..4].iter().all(|r| r.body_bytes == 300_000), "{seen:#?}");
}

#[test]
fn matchers_tell_s3_operations_apart() {
    let request = |method: &str, path: &str, query: &str| SeenRequest {
        seq: 0,
        connection: 0,
        method: method.into(),
        path: path.into(),
        query: query.into(),
        body_bytes: 0,
        response_bytes: 0,
        forwarded: false,
        upstream_status: None,
        status: None,
        fault: None,
        error: None,
    };
    let upload_part = request("PUT", "/b/k", "x-id=UploadPart&partNumber=3&uploadId=a%2Fb");
    let put_object = request("PUT", "/b/dir/k", "x-id=PutObject");
    let create_bucket = request("PUT", "/b", "");
    let create_upload = request("POST", "/b/k", "uploads&x-id=CreateMultipartUpload");
    let complete = request("POST", "/b/k", "uploadId=a%2Fb");
    let list_parts = request("GET", "/b/k", "uploadId=a%2Fb");
    let get_object = request("GET", "/b/k", "x-id=GetObject");
    let all = [&upload_part, &put_object, &create_bucket, &create_upload, &complete, &list_parts, &get_object];
    let fits = |m: Match| all.iter().map(|r| m.matches(r)).collect::<Vec<_>>();

    assert_eq!(fits(Match::upload_part()), [true, false, false, false, false, false, false]);
    assert_eq!(fits(Match::upload_part_number(3)), [true, false, false, false, false, false, false]);
    assert_eq!(fits(Match::upload_part_number(1)), [false; 7]);
    assert_eq!(fits(Match::put_object()), [false, true, false, false, false, false, false]);
    assert_eq!(fits(Match::create_multipart_upload()), [false, false, false, true, false, false, false]);
    assert_eq!(fits(Match::complete_multipart_upload()), [false, false, false, false, true, false, false]);
    assert_eq!(fits(Match::list_parts()), [false, false, false, false, false, true, false]);
    assert_eq!(fits(Match::get_object()), [false, false, false, false, false, false, true]);
    assert_eq!(fits(Match::any()), [true; 7]);
    assert_eq!(fits(Match::method("post").with_path_containing("/k")), [false, false, false, true, true, false, false]);
    assert_eq!(
        fits(Match::any().with(|r| r.part_number() == Some(3))),
        [true, false, false, false, false, false, false]
    );
    assert_eq!(upload_part.upload_id().as_deref(), Some("a/b"));
    assert_eq!(create_upload.param("uploads").as_deref(), Some(""));
}

async fn multipart_round_trip(moto: &MotoServer, client: &Client, bucket: &str, key: &str) {
    let parts = [payload(5 * MIB, 7), payload(5 * MIB, 8)];
    let upload_id = create_upload(client, bucket, key).await;
    let mut done = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let number = i as i32 + 1;
        done.push(upload_part(client, bucket, key, &upload_id, number, part).await.unwrap());
    }
    assert_eq!(moto.list_parts(bucket, key, &upload_id), [(1, 5 * MIB as u64), (2, 5 * MIB as u64)]);
    // moto 5.2 answers ListParts under the wrong XML root, which the SDK rejects.
    match client.list_parts().bucket(bucket).key(key).upload_id(&upload_id).send().await {
        Ok(listed) => assert_eq!(listed.parts().len(), 2),
        Err(err) => assert!(
            matches!(err, SdkError::ServiceError(_)) && {
                let text = format!("{err:?}");
                text.contains("expected ListPartsResult") && text.contains("ListPartsResponse")
            },
            "{}",
            describe(&err)
        ),
    }
    complete(client, bucket, key, &upload_id, done).await.unwrap_or_else(|e| panic!("{}", describe(&e)));
    let fetched = get_bytes(client, bucket, key).await;
    assert_eq!(fetched.len(), 10 * MIB);
    assert!(fetched == parts.concat(), "the object is the two parts in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_takes_a_two_part_multipart_upload_directly_and_through_the_proxy() {
    let moto = tokio::task::spawn_blocking(MotoServer::start).await.unwrap();
    let credentials = Credentials::new(MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY, None, None, "moto");
    let direct = static_client(&moto.endpoint(), MOTO_REGION, credentials.clone());

    direct.create_bucket().bucket("moto-direct").send().await.unwrap();
    multipart_round_trip(&moto, &direct, "moto-direct", "clips/a.bin").await;

    let moto = tokio::task::spawn_blocking(move || {
        moto.reset();
        moto
    })
    .await
    .unwrap();
    let err = direct.head_bucket().bucket("moto-direct").send().await.expect_err("reset forgets buckets");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));

    let proxy = FaultProxy::start(moto.addr());
    let via = no_retries(static_client(&proxy.endpoint(), MOTO_REGION, credentials), None);
    via.create_bucket().bucket("moto-proxied").send().await.unwrap();
    multipart_round_trip(&moto, &via, "moto-proxied", "clips/b.bin").await;

    let parts: Vec<_> =
        proxy.requests_matching(&Match::upload_part()).iter().map(|r| (r.part_number(), r.status)).collect();
    assert_eq!(parts, [(Some(1), Some(200)), (Some(2), Some(200))]);
    assert_eq!(proxy.requests_matching(&Match::complete_multipart_upload()).len(), 1);
    assert!(proxy.requests().iter().all(|r| r.status == Some(200) && r.forwarded), "{:#?}", proxy.requests());
    drop(proxy);
    tokio::task::spawn_blocking(move || drop(moto)).await.unwrap();
}
