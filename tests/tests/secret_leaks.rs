//! The secret-leak scan: a full run with known, unique secrets (a keys
//! connection, `streamdrop setup --apply` against moto's server, the CloudFront
//! signing key it makes), logging at debug level, then a search for each
//! secret in the settings file, the SQLite store (with its -wal and -shm
//! files), every other file in the data dir and the temporary HOME, the logs,
//! and the arguments of every process on the machine, sampled while the
//! commands ran. The AWS access key id is not a secret; the secret access key,
//! the session token and the private key are.
//!
//! Marked `#[ignore]` like `keychain.rs`: it needs the throwaway Secret Service
//! that `scripts/test-all.sh` starts (through `scripts/in-test-session.sh`).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use streamdrop_e2e::built_binary;
use streamdrop_e2e::moto::MotoServer;

/// Where a secret was found.
struct Leak {
    secret: &'static str,
    place: String,
}

struct Secrets {
    access_secret: String,
    session_token: String,
    /// Filled in once setup has made the key.
    private_key_lines: Vec<String>,
}

impl Secrets {
    fn named(&self) -> Vec<(&'static str, &str)> {
        let mut all =
            vec![("secret access key", self.access_secret.as_str()), ("session token", self.session_token.as_str())];
        all.extend(self.private_key_lines.iter().map(|l| ("private key", l.as_str())));
        all
    }

    fn scan(&self, place: &str, text: &str, leaks: &mut Vec<Leak>) {
        for (secret, value) in self.named() {
            if text.contains(value) {
                leaks.push(Leak { secret, place: place.to_owned() });
            }
        }
    }
}

fn throwaway_keychain() {
    // scripts/in-test-session.sh (which scripts/test-all.sh uses) moves HOME
    // to a temp dir and starts gnome-keyring there, on a private session bus.
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let throwaway = home.is_some_and(|h| h.starts_with(std::env::temp_dir()))
        && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    assert!(
        throwaway,
        "this test writes to the session's Secret Service; run it through scripts/in-test-session.sh (scripts/test-all.sh \
         does), which gives it a temporary HOME and a throwaway gnome-keyring on a private D-Bus session"
    );
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{nanos:x}{}", std::process::id())
}

/// Every process's arguments (NUL-separated in /proc, joined with spaces).
fn all_cmdlines() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return found };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(bytes) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
            found.push((name, text));
        }
    }
    found
}

/// Runs a `streamdrop` process to the end, sampling every process's
/// arguments while it runs. Its output goes to files in `logs` (a pipe nobody
/// reads while sampling would fill up and stall it), appended to `log`.
fn run(
    cmd: &mut Command,
    input: Option<&str>,
    logs: &Path,
    log: &mut String,
    cmdlines: &mut BTreeSet<(String, String)>,
) -> Output {
    let n = std::fs::read_dir(logs).unwrap().count();
    let (out_path, err_path) = (logs.join(format!("{n}.out")), logs.join(format!("{n}.err")));
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let mut child: Child = cmd.spawn().expect("start streamdrop");
    if let Some(input) = input {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let pid = child.id().to_string();
    let status = loop {
        let exited = child.try_wait().unwrap();
        for (p, text) in all_cmdlines() {
            cmdlines.insert((format!("/proc/{p}/cmdline"), text));
        }
        if let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) {
            cmdlines.insert((format!("/proc/{pid}/environ"), String::from_utf8_lossy(&environ).replace('\0', " ")));
        }
        if let Some(status) = exited {
            break status;
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    let out = Output { status, stdout: std::fs::read(&out_path).unwrap(), stderr: std::fs::read(&err_path).unwrap() };
    log.push_str(&format!(
        "$ {cmd:?}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ));
    assert!(out.status.success(), "{cmd:?} failed:\n{log}");
    out
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
#[ignore = "needs a throwaway Secret Service: scripts/test-all.sh runs it"]
fn no_secret_reaches_files_logs_or_process_arguments() {
    throwaway_keychain();
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let (data, home) = (tmp.path().join("data"), tmp.path().join("home"));
    std::fs::create_dir_all(&home).unwrap();
    let id = unique();
    let name = format!("Leak Test {id}");
    let mut secrets = Secrets {
        access_secret: format!("sd-leak-canary-{id}-wJalrXUtnFEMIK7MDENG"),
        session_token: format!("sd-leak-token-{id}-FwoGZXIvYXdzEBYaDH"),
        private_key_lines: Vec::new(),
    };
    let sd = || {
        let mut cmd = Command::new(built_binary("streamdrop"));
        cmd.env("STREAMDROP_DATA_DIR", &data)
            .env("HOME", &home)
            .env("STREAMDROP_LOG", "debug")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        cmd
    };
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let (mut log, mut cmdlines) = (String::new(), BTreeSet::new());

    // The full flow, every secret through standard input only.
    let keys = format!("AKIALEAKTEST{}\n{}\n{}\n", &id[..4], secrets.access_secret, secrets.session_token);
    run(
        sd().args(["connection", "add", &name, "--keys", "--endpoint-url", &moto.endpoint(), "--use"]),
        Some(&keys),
        &logs,
        &mut log,
        &mut cmdlines,
    );
    for args in [
        vec!["connection", "list"],
        vec!["connection", "list", "--json"],
        vec!["connection", "check"],
        vec!["setup", "--plan", "--name-prefix", "streamdrop-leaks"],
        vec!["setup", "--apply", "--name-prefix", "streamdrop-leaks"],
        vec!["setup", "--apply", "--json"],
        vec!["setup", "--plan", "--json"],
        vec!["jobs", "--json"],
    ] {
        run(sd().args(&args), None, &logs, &mut log, &mut cmdlines);
    }

    // The signing key setup made, as the Secret Service holds it.
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "streamdrop", "username", &format!("{name}/cloudfront-signing-key")])
        .output()
        .unwrap();
    let pem = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "setup stored a private key: {pem:.40}");
    secrets.private_key_lines =
        pem.lines().filter(|l| !l.starts_with("-----") && l.len() >= 32).map(str::to_owned).collect();
    assert!(secrets.private_key_lines.len() > 10);
    // The scan finds what is there (a scan that finds nothing proves nothing).
    let mut control = Vec::new();
    secrets.scan("control", &pem, &mut control);
    secrets.scan("control", &keys, &mut control);
    assert_eq!(control.len(), secrets.named().len(), "the scan sees every secret");

    let mut leaks = Vec::new();
    // Data dir: settings.json, streamdrop.sqlite3 (+ -wal, -shm), anything else;
    // and the temporary HOME.
    let data_files = files(&data);
    let names: Vec<String> = data_files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(names.iter().any(|n| n == "settings.json"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("streamdrop.sqlite3")), "the store exists: {names:?}");
    for path in data_files.iter().chain(files(&home).iter()) {
        let bytes = std::fs::read(path).unwrap();
        secrets.scan(&path.display().to_string(), &String::from_utf8_lossy(&bytes), &mut leaks);
    }
    // Logs, at debug level: ours and moto's.
    assert!(log.contains("DEBUG"), "the commands logged at debug level:\n{log:.2000}");
    secrets.scan("streamdrop's output and logs", &log, &mut leaks);
    secrets.scan("moto's log", &moto.log(), &mut leaks);
    // Every process's arguments, sampled while the commands ran and now.
    cmdlines.extend(all_cmdlines().into_iter().map(|(p, text)| (format!("/proc/{p}/cmdline"), text)));
    for path in files(&logs) {
        secrets.scan(&path.display().to_string(), &std::fs::read_to_string(&path).unwrap(), &mut leaks);
    }
    assert!(cmdlines.iter().any(|(_, c)| c.contains("setup --apply")), "the sampling saw the commands");
    for (place, text) in &cmdlines {
        secrets.scan(place, text, &mut leaks);
    }
    let report: Vec<String> = leaks.iter().map(|l| format!("the {} is in {}", l.secret, l.place)).collect();
    assert!(report.is_empty(), "secrets leaked:\n{}", report.join("\n"));

    // Leave the throwaway keychain as it was.
    let removed = Command::new(built_binary("streamdrop"))
        .env("STREAMDROP_DATA_DIR", &data)
        .env("HOME", &home)
        .args(["connection", "remove", &name])
        .output()
        .unwrap();
    assert!(removed.status.success());
}
