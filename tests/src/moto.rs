//! moto's server (`moto_server`, Python) as a second, independent S3
//! implementation on loopback, so transfer tests do not only prove that
//! Streamdrop agrees with its own embedded server.
//!
//! `scripts/setup-debian.sh test` installs it (`moto[server]`, pinned). moto
//! accepts any credentials and does not check signatures; use
//! [`MOTO_ACCESS_KEY_ID`]/[`MOTO_SECRET_ACCESS_KEY`] and [`MOTO_REGION`].
//! Its HTTP server (werkzeug) closes the connection after each response.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, ChildGuard};

pub const MOTO_ACCESS_KEY_ID: &str = "testing";
pub const MOTO_SECRET_ACCESS_KEY: &str = "testing";
pub const MOTO_REGION: &str = "us-east-1";

/// How long moto may take to import and bind (it is slow on a busy machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// `moto_server` on `PATH` (a pyenv shim counts), if any.
pub fn moto_server_executable() -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("moto_server")).find(|candidate| {
        std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// A running `moto_server` on `127.0.0.1`, stopped by PID on drop. Its log
/// (werkzeug's request lines and any traceback) goes to a temporary file, see
/// [`MotoServer::log`].
pub struct MotoServer {
    // Declared first so the process stops before its log file is removed.
    child: ChildGuard,
    addr: SocketAddr,
    log: tempfile::NamedTempFile,
}

impl MotoServer {
    /// Starts `moto_server -H 127.0.0.1 -p <free port>` and waits until it
    /// answers `GET /moto-api/`. Blocking; fine to call from async tests.
    ///
    /// Panics with "moto_server not found: run scripts/setup-debian.sh test"
    /// when it is not installed.
    pub fn start() -> MotoServer {
        let Some(executable) = moto_server_executable() else {
            panic!("moto_server not found: run scripts/setup-debian.sh test");
        };
        let log = tempfile::Builder::new().prefix("moto-server-").suffix(".log").tempfile().expect("moto log file");
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut command = Command::new(&executable);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            // sitecustomize.py: a role trusting a service is judged (see enforce_iam).
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/moto"))
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("moto log file"))
            .stderr(log.reopen().expect("moto log file"));
        let mut child = ChildGuard::spawn("moto_server", &mut command);
        let server_log = || std::fs::read_to_string(log.path()).unwrap_or_default();

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.child_mut().try_wait() {
                let text = server_log();
                let hint = if text.contains("command not found") || text.contains("No module named") {
                    "moto_server not found: run scripts/setup-debian.sh test\n"
                } else {
                    ""
                };
                panic!("{hint}{} exited with {status} before serving:\n{text}", executable.display());
            }
            if let Ok((200, _)) = http(addr, "GET", "/moto-api/", Duration::from_secs(2)) {
                break;
            }
            if Instant::now() > deadline {
                panic!("moto_server did not answer on {addr} within {START_TIMEOUT:?}:\n{}", server_log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        MotoServer { child, addr, log }
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// From now on, judges every request as AWS IAM would: signed by an
    /// access key this moto issued (see [`MotoServer::create_user`]; the
    /// fixed test keys no longer work), and allowed by that identity's
    /// policies, an assumed role's included. A role that trusts a service
    /// may be assumed by the user named after the service
    /// (`tests/moto/sitecustomize.py`). Blocking.
    pub fn enforce_iam(&self) {
        match http_with_body(self.addr, "POST", "/moto-api/reset-auth", "0", Duration::from_secs(10)) {
            Ok((200, _)) => {}
            other => panic!("moto did not start enforcing IAM: {other:?}"),
        }
    }

    /// How moto moves resources of `model` (`cloudfront::distribution`)
    /// through their states, e.g. `{"progression": "time", "seconds": 3}`:
    /// `InProgress` for 3 s, then `Deployed`, as CloudFront does over minutes. Blocking.
    pub fn set_transition(&self, model: &str, transition: serde_json::Value) {
        let body = serde_json::json!({ "model_name": model, "transition": transition }).to_string();
        match http_with_body(
            self.addr,
            "POST",
            "/moto-api/state-manager/set-transition",
            &body,
            Duration::from_secs(10),
        ) {
            Ok((201, _)) => {}
            other => panic!("moto did not take the transition: {other:?}"),
        }
    }

    /// An IAM user `name` with `policy` as its one inline policy, and its
    /// access key (id, secret). Made with the test keys, so before
    /// [`MotoServer::enforce_iam`].
    pub async fn create_user(&self, name: &str, policy: &serde_json::Value) -> (String, String) {
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new(MOTO_REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                MOTO_ACCESS_KEY_ID,
                MOTO_SECRET_ACCESS_KEY,
                None,
                None,
                "moto",
            ))
            .build();
        let iam = aws_sdk_iam::Client::from_conf(config);
        iam.create_user().user_name(name).send().await.unwrap_or_else(|e| panic!("create user {name}: {e:?}"));
        iam.put_user_policy()
            .user_name(name)
            .policy_name("streamdrop-test")
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("policy of {name}: {e:?}"));
        let key = iam.create_access_key().user_name(name).send().await.unwrap().access_key.expect("an access key");
        (key.access_key_id, key.secret_access_key)
    }

    /// Forgets every bucket and object (`POST /moto-api/reset`). Blocking.
    pub fn reset(&self) {
        match http(self.addr, "POST", "/moto-api/reset", Duration::from_secs(30)) {
            Ok((200, _)) => {}
            Ok((status, body)) => panic!("moto reset answered {status}: {body}\n{}", self.log()),
            Err(err) => panic!("moto reset failed: {err}\n{}", self.log()),
        }
    }

    /// The parts of an open multipart upload, as `(part number, size)`, read
    /// with a plain unsigned `GET ?uploadId=` (moto checks no signatures).
    ///
    /// aws-sdk-s3 cannot read moto 5.2's ListParts answer: moto names the XML
    /// root `ListPartsResponse` where S3 (and the SDK) use `ListPartsResult`.
    pub fn list_parts(&self, bucket: &str, key: &str, upload_id: &str) -> Vec<(u32, u64)> {
        let path = format!("/{}/{}?uploadId={}", encode(bucket, false), encode(key, true), encode(upload_id, false));
        let (status, body) = http(self.addr, "GET", &path, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("moto ListParts failed: {e}\n{}", self.log()));
        assert_eq!(status, 200, "moto ListParts answered {status}: {body}");
        let element = |xml: &str, name: &str| -> Option<String> {
            let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
            let end = start + xml[start..].find(&format!("</{name}>"))?;
            Some(xml[start..end].to_owned())
        };
        body.split("<Part>")
            .skip(1)
            .map(|part| {
                let number = element(part, "PartNumber").and_then(|n| n.parse().ok());
                let size = element(part, "Size").and_then(|n| n.parse().ok());
                number.zip(size).unwrap_or_else(|| panic!("unreadable part in moto's ListParts: {body}"))
            })
            .collect()
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

/// Percent-encodes all but unreserved characters (and `/` when `keep_slash`).
fn encode(s: &str, keep_slash: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b'/' if keep_slash => "/".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A bodiless HTTP/1.1 request on a fresh connection; returns status and body.
fn http(addr: SocketAddr, method: &str, path: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    http_with_body(addr, method, path, "", timeout)
}

/// [`http`] with a text body.
fn http_with_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let length = body.len();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:.200}")))?;
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Ok((status, body))
}
