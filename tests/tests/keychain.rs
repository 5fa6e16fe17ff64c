//! Connections against a real Secret Service: the keyring crates talk to
//! gnome-keyring over D-Bus, and `secret-tool` (libsecret) shows that the
//! secrets really are there, so this is no mock store. Then the README's
//! `streamdrop setup` flow, as processes, against moto's server.
//!
//! Marked `#[ignore]`: they need a throwaway Secret Service, never the
//! developer's own keychain. `scripts/test-all.sh` runs them through
//! `scripts/in-test-session.sh`: a private D-Bus session with an unlocked
//! gnome-keyring and a temporary HOME. Elsewhere they refuse to run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use streamdrop_core::credentials::{AwsKeys, OsKeychain, SecretItem, SecretRef, SecretStore};

use streamdrop_core::model::ConnectionName;
use streamdrop_e2e::moto::MotoServer;
use streamdrop_e2e::transcoder_standin::{JobStep, StandInStorage, TranscoderStandIn};
use streamdrop_e2e::{built_binary, make_clip};

/// Refuses to touch a keychain that is not the throwaway one.
fn throwaway_keychain() {
    // scripts/in-test-session.sh (which scripts/test-all.sh uses) moves HOME
    // to a temp dir and starts gnome-keyring there, on a private session bus.
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let throwaway = home.is_some_and(|h| h.starts_with(std::env::temp_dir()))
        && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    assert!(
        throwaway,
        "these tests write to the session's Secret Service; run it through scripts/in-test-session.sh (scripts/test-all.sh \
         does), which gives it a temporary HOME and a throwaway gnome-keyring on a private D-Bus session"
    );
}

fn secret_tool(args: &[&str]) -> Output {
    Command::new("secret-tool").args(args).output().expect("secret-tool (libsecret-tools) must be installed")
}

/// What the Secret Service holds for `service streamdrop`, `username ACCOUNT`.
fn lookup(account: &str) -> Option<String> {
    let out = secret_tool(&["lookup", "service", "streamdrop", "username", account]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// A `streamdrop` process with its own data dir and a HOME with no ~/.aws.
fn streamdrop(data: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(built_binary("streamdrop"));
    cmd.env("STREAMDROP_DATA_DIR", data)
        .env("HOME", home)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run streamdrop");
    assert!(out.status.success(), "{cmd:?} failed: {}\n{}", out.status, text(&out));
    out
}

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cmd` with `input` on its standard input.
fn with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn files_text(root: &Path) -> String {
    let mut text = String::new();
    let mut dirs: Vec<PathBuf> = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text
}

#[test]
#[ignore = "needs a throwaway Secret Service: scripts/test-all.sh runs it"]
fn keychain_entries_land_in_the_secret_service_and_go_away() {
    throwaway_keychain();
    let keychain = OsKeychain::open().expect("a Secret Service on the session bus");
    let name = ConnectionName::new(format!("Keychain Test {}", uuid_like())).unwrap();
    let secret = SecretRef::new(&name, SecretItem::AwsKeys);
    let value = "sd-keychain-test-secret-7c1f";
    keychain.set(&secret, &AwsKeys::new("AKIDKEYCHAINTEST", value, None).to_keychain_value()).unwrap();

    // libsecret sees the item: it is in the real Secret Service.
    let stored = lookup(&secret.account()).expect("secret-tool finds the entry");
    assert!(stored.contains(value), "{stored}");
    let listed = secret_tool(&["search", "--all", "service", "streamdrop"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned() + &String::from_utf8_lossy(&listed.stderr);
    assert!(listed.contains(&format!("label = Streamdrop: AWS access key of connection \"{name}\"")), "{listed}");

    let read = keychain.get(&secret).unwrap().expect("read back");
    let keys = AwsKeys::from_keychain_value(&read, &secret).unwrap();
    assert_eq!((keys.access_key_id(), keys.secret_access_key()), ("AKIDKEYCHAINTEST", value));

    assert!(keychain.delete(&secret).unwrap());
    assert!(lookup(&secret.account()).is_none(), "deleted from the Secret Service");
    assert!(keychain.get(&secret).unwrap().is_none());
    assert!(!keychain.delete(&secret).unwrap());
}

#[test]
#[ignore = "needs a throwaway Secret Service: scripts/test-all.sh runs it"]
fn the_readme_flow_connects_sets_up_runs_a_job_on_moto_and_removes() {
    throwaway_keychain();
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let (data, home) = (tmp.path().join("data"), tmp.path().join("home"));
    std::fs::create_dir_all(&home).unwrap();
    let sd = || streamdrop(&data, &home);
    let name = "Moto Test";

    // Keys from standard input, never from arguments.
    let added = with_stdin(
        sd().args(["connection", "add", name, "--keys", "--endpoint-url", &moto.endpoint(), "--use"]),
        "AKIAMOTOREADME\nsd-readme-secret-5e2b\n",
    );
    assert!(added.status.success(), "{}", text(&added));
    assert!(stdout(&added).contains("access key AKIAMOTOREADME kept in the Secret Service"), "{}", text(&added));
    let stored = lookup(&format!("{name}/aws-keys")).expect("the keys are in the Secret Service");
    assert!(stored.contains("sd-readme-secret-5e2b"));
    let settings = std::fs::read_to_string(data.join("settings.json")).unwrap();
    assert!(!settings.contains("sd-readme-secret-5e2b") && settings.contains("\"kind\": \"keys\""), "{settings}");

    let list = stdout(&run_ok(sd().args(["connection", "list"])));
    assert!(list.lines().any(|l| l.starts_with("* Moto Test")), "{list}");
    let check = stdout(&run_ok(sd().args(["connection", "check"])));
    assert!(check.contains("works: account 123456789012"), "{check}");

    // Plan, apply, apply again.
    let plan = run_ok(sd().args(["setup", "--plan", "--name-prefix", "streamdrop-readme"]));
    let plan_lines = stdout(&plan);
    assert!(plan_lines.lines().count() >= 9, "{}", text(&plan));
    assert!(
        plan_lines.lines().all(|l| l.starts_with("create  ")
            || l.starts_with("skip    ")
            || l.starts_with("later   cloudfront deployment")),
        "{}",
        text(&plan)
    );
    assert!(plan_lines.contains("create  s3 bucket streamdrop-readme-uploads"), "{plan_lines}");

    let apply = run_ok(sd().args(["setup", "--apply", "--name-prefix", "streamdrop-readme"]));
    assert!(stdout(&apply).contains("created cloudfront distribution"), "{}", text(&apply));
    assert!(String::from_utf8_lossy(&apply.stderr).contains("playback: https://"), "{}", text(&apply));

    let again = run_ok(sd().args(["setup", "--apply"]));
    assert!(stdout(&again).lines().all(|l| l.starts_with("exists  ") || l.starts_with("skipped ")), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing changed"), "{}", text(&again));
    let json = run_ok(sd().args(["setup", "--plan", "--json"]));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(report["error"].is_null(), "{report}");
    assert!(
        report["steps"].as_array().unwrap().iter().all(|s| s["action"] == "exists" || s["action"] == "skip"),
        "{report}"
    );
    let key_pair_id = report["distribution"]["keyPairId"].as_str().expect("key pair id").to_owned();

    // The signing key: in the keychain, nowhere on disk.
    let pem = lookup(&format!("{name}/cloudfront-signing-key")).expect("the private key is in the Secret Service");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "a PKCS#8 PEM");
    let on_disk = files_text(tmp.path());
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!on_disk.contains(line), "a line of the private key is on disk");
    }
    let settings = std::fs::read_to_string(data.join("settings.json")).unwrap();
    assert!(settings.contains(&key_pair_id), "{settings}");

    // The whole pipeline on this connection, headless: upload, copy, MediaConvert
    // (the stand-in, reached through the AWS SDKs' own endpoint variable), and a
    // link through the distribution, signed with the key from the keychain.
    let standin = TranscoderStandIn::start_working(StandInStorage {
        endpoint: moto.endpoint(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        assumes_the_jobs_role: false,
    });
    standin.script_next_job(vec![JobStep::Progressing { percent: 50 }, JobStep::Complete]);
    let clip = make_clip(tmp.path(), "C003 street.mp4", 1);
    let submitted = run_ok(
        sd().env("AWS_ENDPOINT_URL_MEDIACONVERT", standin.endpoint())
            .arg("submit")
            .arg(&clip)
            .args(["--wait", "--json"]),
    );
    let submit_report: serde_json::Value = serde_json::from_slice(&submitted.stdout).unwrap();
    let job = &submit_report["accepted"][0];
    let id = job["id"].as_str().expect("a job id").to_owned();
    assert_eq!(job["state"], "ready", "{job}");
    assert_eq!(job["connection"], name);
    assert_eq!(job["outputs"]["original"], format!("s3://streamdrop-readme-media/jobs/{id}/original/C003 street.mp4"));
    assert_eq!(job["outputs"]["playlist"], format!("s3://streamdrop-readme-media/jobs/{id}/stream/hls/master.m3u8"));
    let create = &standin.requests_to("POST", "/2017-08-29/jobs")[0];
    assert_eq!(create.body["settings"]["inputs"][0]["fileInput"], job["outputs"]["original"]);
    let jobs: serde_json::Value = serde_json::from_slice(&run_ok(sd().args(["jobs", "--json"])).stdout).unwrap();
    assert_eq!(jobs[0]["connection"], name, "{jobs}");
    let link = stdout(&run_ok(sd().args(["link", &id, "--kind", "original", "--expires-in", "1h"])));
    let domain = report["distribution"]["domain"].as_str().expect("distribution domain");
    assert!(link.starts_with(&format!("https://{domain}/jobs/{id}/original/C003%20street.mp4?")), "{link}");
    assert!(link.contains(&format!("Key-Pair-Id={key_pair_id}")), "{link}");

    // Removal takes the secrets with it.
    let removed = run_ok(sd().args(["connection", "remove", name]));
    assert!(stdout(&removed).contains("deleted the AWS access key"), "{}", text(&removed));
    assert!(stdout(&removed).contains("deleted the CloudFront signing key"), "{}", text(&removed));
    assert!(lookup(&format!("{name}/aws-keys")).is_none());
    assert!(lookup(&format!("{name}/cloudfront-signing-key")).is_none());
    let list = stdout(&run_ok(sd().args(["connection", "list"])));
    assert!(list.lines().any(|l| l.starts_with("* Local")) && !list.contains(name), "{list}");
}

#[test]
#[ignore = "needs a throwaway Secret Service: scripts/test-all.sh runs it"]
fn keys_from_the_environment_and_profiles_and_a_setup_that_cannot_connect() {
    throwaway_keychain();
    let tmp = tempfile::tempdir().unwrap();
    let (data, home) = (tmp.path().join("data"), tmp.path().join("home"));
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(home.join(".aws/config"), "[profile staging]\nregion = eu-west-1\n").unwrap();
    let sd = || streamdrop(&data, &home);

    // A profile connection takes the profile's region and stores nothing secret.
    run_ok(sd().args(["connection", "add", "Staging", "--profile", "staging"]));
    let list = run_ok(sd().args(["connection", "list", "--json"]));
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let staging = list["connections"].as_array().unwrap().iter().find(|c| c["name"] == "Staging").unwrap().clone();
    assert_eq!((staging["kind"].as_str(), staging["region"].as_str()), (Some("profile"), Some("eu-west-1")), "{list}");
    assert!(lookup("Staging/aws-keys").is_none());

    // --from-env reads the standard variables.
    let dead_end = format!("http://127.0.0.1:{}", streamdrop_e2e::free_port());
    run_ok(
        sd().args(["connection", "add", "Env Keys", "--keys", "--from-env", "--endpoint-url", &dead_end, "--use"])
            .env("AWS_ACCESS_KEY_ID", "AKIAFROMENV")
            .env("AWS_SECRET_ACCESS_KEY", "sd-env-secret-91aa"),
    );
    assert!(lookup("Env Keys/aws-keys").expect("stored").contains("sd-env-secret-91aa"));
    // Keys on the command line are not a thing.
    let refused = sd().args(["connection", "add", "Argv", "--keys", "--secret-access-key", "x"]).output().unwrap();
    assert!(!refused.status.success());

    // Nothing listens there: setup fails, names the step and exits non-zero.
    let failed = sd().args(["setup", "--apply", "--name-prefix", "streamdrop-nowhere"]).output().unwrap();
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains(
            "setup stopped at step upload-bucket: checking the temporary upload bucket streamdrop-nowhere-uploads"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("s3:ListBucket"), "{stderr}");

    run_ok(sd().args(["connection", "remove", "Env Keys"]));
    assert!(lookup("Env Keys/aws-keys").is_none());
}

/// A short unique suffix (time and pid), so parallel runs do not share entries.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}-{}", nanos, std::process::id())
}

/// `scripts/aws-smoke.sh`, the live smoke test for people with an account,
/// run as they would run it but against moto (its `--endpoint-url`) with the
/// local ffmpeg transcoder: connection, setup, a 10-second job, a link, and
/// the teardown, after which nothing it made is left in the account and
/// nothing of the connection in the keychain.
#[test]
#[ignore = "needs a throwaway Secret Service: scripts/test-all.sh runs it"]
fn the_aws_smoke_script_runs_its_flow_and_tears_everything_down() {
    throwaway_keychain();
    let moto = MotoServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/aws-smoke.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--prefix", "streamdrop-smoke", "--region", "us-east-1", "--transcoder", "local-ffmpeg"])
        .args(["--endpoint-url", &moto.endpoint()])
        .env("STREAMDROP", built_binary("streamdrop"))
        .env("HOME", &home)
        .env("TMPDIR", tmp.path())
        .env("AWS_ACCESS_KEY_ID", "AKIAMOTOSMOKE")
        .env("AWS_SECRET_ACCESS_KEY", "sd-smoke-secret-9f3c")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("STREAMDROP_DATA_DIR")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    for expected in [
        "created s3 bucket streamdrop-smoke-media",
        "cost-relevant resources touched:",
        "is ready",
        "not played: an emulator has no CloudFront edge",
        "\trevoked",
        "deleted cloudfront distribution",
        "deleted s3 bucket streamdrop-smoke-media",
        "nothing to delete",
        "aws-smoke: passed",
    ] {
        assert!(said.contains(expected), "no {expected:?} in:\n{said}");
    }
    assert!(!said.contains("sd-smoke-secret-9f3c"), "the secret was printed");

    // What moto holds now: nothing the script made.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(moto.endpoint())
            .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        let buckets = aws_sdk_s3::Client::new(&config).list_buckets().send().await.unwrap();
        assert!(buckets.buckets().is_empty(), "{:?}", buckets.buckets());
        let cloudfront = aws_sdk_cloudfront::Client::new(&config);
        let distributions = cloudfront.list_distributions().send().await.unwrap();
        assert!(distributions.distribution_list.is_none_or(|l| l.items().is_empty()));
        let groups = cloudfront.list_key_groups().send().await.unwrap();
        assert!(groups.key_group_list.is_none_or(|l| l.items().is_empty()));
        let roles = aws_sdk_iam::Client::new(&config).list_roles().send().await.unwrap();
        assert!(roles.roles().iter().all(|r| !r.role_name().starts_with("streamdrop-smoke")), "{:?}", roles.roles());
    });
    for item in ["aws-keys", "cloudfront-signing-key", "cloudfront-next-signing-key"] {
        assert!(lookup(&format!("aws-smoke-streamdrop-smoke/{item}")).is_none(), "{item} left in the keychain");
    }
}
