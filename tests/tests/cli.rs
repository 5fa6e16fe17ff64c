//! The `streamdrop` command, run as a real process against its own embedded S3 server.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use aws_sdk_s3::config::Credentials;
use serde_json::{json, Value};
use streamdrop_core::storage::static_client;
use streamdrop_e2e::{built_binary, make_clip, make_clip_sized, sha256_file, ChildGuard};

const KEY_ID: &str = "SDTESTKEYID";
const SECRET: &str = "sd-test-secret-9f8e7d6c5b4a";

fn streamdrop(data_dir: &Path) -> Command {
    in_test_env(Command::new(built_binary("streamdrop")), data_dir)
}

fn in_test_env(mut cmd: Command, data_dir: &Path) -> Command {
    cmd.env("STREAMDROP_DATA_DIR", data_dir).env_remove("AWS_PROFILE").env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run streamdrop")
}

/// Starts `streamdrop serve --json` and returns it with its first output line.
fn serve(data_dir: &Path, with_env_credentials: bool) -> (ChildGuard, Value) {
    serve_as(streamdrop(data_dir), with_env_credentials)
}

/// Starts `cmd serve --json` (`cmd` runs streamdrop) and returns it with its first output line.
fn serve_as(mut cmd: Command, with_env_credentials: bool) -> (ChildGuard, Value) {
    cmd.args(["serve", "--json"]).stdout(Stdio::piped());
    if with_env_credentials {
        cmd.env("AWS_ACCESS_KEY_ID", KEY_ID).env("AWS_SECRET_ACCESS_KEY", SECRET);
    } else {
        cmd.env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY");
    }
    let mut server = ChildGuard::spawn("streamdrop serve", &mut cmd);
    let stdout = server.child_mut().stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let started: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("serve printed {line:?}: {e}"));
    (server, started)
}

#[tokio::test]
async fn serve_runs_an_authenticated_s3_server_on_loopback_until_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (mut server, started) = serve(&data, true);

    let endpoint = started["s3Endpoint"].as_str().unwrap().to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{started}");
    assert!(
        started.get("accessKeyId").is_none() && started.get("secretAccessKey").is_none(),
        "keys from the environment are never echoed: {started}"
    );

    let client = static_client(&endpoint, "us-east-1", Credentials::new(KEY_ID, SECRET, None, None, "test"));
    let buckets = client.list_buckets().send().await.unwrap();
    let mut names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    names.sort();
    assert_eq!(names, ["streamdrop-media", "streamdrop-uploads"]);
    client.put_object().bucket("streamdrop-media").key("hello.txt").body(b"hi".to_vec().into()).send().await.unwrap();

    let intruder = static_client(&endpoint, "us-east-1", Credentials::new(KEY_ID, "wrong", None, None, "test"));
    assert!(intruder.list_buckets().send().await.is_err(), "a wrong secret must be refused");

    let status = server.terminate(Duration::from_secs(10)).expect("serve must stop on SIGTERM");
    assert!(status.success(), "serve exited with {status}");
    assert_eq!(std::fs::read(data.join("local-s3/streamdrop-media/hello.txt")).unwrap(), b"hi");
}

#[tokio::test]
async fn serve_mints_credentials_when_none_are_given_and_keeps_them_out_of_its_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, started) = serve(&tmp.path().join("data"), false);
    let key = started["accessKeyId"].as_str().unwrap();
    let secret = started["secretAccessKey"].as_str().expect("a generated secret is shown once");
    assert!(secret.len() >= 32);

    let client = static_client(
        started["s3Endpoint"].as_str().unwrap(),
        "us-east-1",
        Credentials::new(key, secret, None, None, "test"),
    );
    client.head_bucket().bucket("streamdrop-uploads").send().await.unwrap();

    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(secret));
}

#[tokio::test]
async fn upload_sends_a_file_to_any_endpoint_and_reports_json() {
    let tmp = tempfile::tempdir().unwrap();
    let (_server, started) = serve(&tmp.path().join("data"), true);
    let endpoint = started["s3Endpoint"].as_str().unwrap();

    let file = tmp.path().join("A001 clip é.bin");
    let bytes: Vec<u8> = (0..11 * 1024 * 1024 + 5).map(|i: usize| (i % 253) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let key = "camera 1/A001 clip é.bin";

    let out = run(streamdrop(tmp.path())
        .args(["upload"])
        .arg(&file)
        .arg(format!("s3://streamdrop-uploads/{key}"))
        .args(["--endpoint-url", endpoint, "--part-size", "5242880", "--json"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["bucket"], "streamdrop-uploads");
    assert_eq!(result["key"], key);
    assert_eq!(result["size"], bytes.len() as u64);
    assert_eq!(result["parts"], 3);
    assert_eq!(result["bytes_sent"], bytes.len() as u64);

    let client = static_client(endpoint, "us-east-1", Credentials::new(KEY_ID, SECRET, None, None, "test"));
    let object = client.get_object().bucket("streamdrop-uploads").key(key).send().await.unwrap();
    assert_eq!(object.body.collect().await.unwrap().into_bytes().as_ref(), bytes.as_slice());
}

#[test]
fn upload_of_a_missing_file_fails_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(streamdrop(tmp.path()).args([
        "upload",
        "/nonexistent/clip.mov",
        "s3://b/k",
        "--endpoint-url",
        "http://127.0.0.1:9",
    ]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/clip.mov") && stderr.contains("not found"), "{stderr}");
}

#[test]
fn submit_runs_a_job_on_the_local_stack_and_jobs_lists_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let clip = make_clip(tmp.path(), "interview take 1.mp4", 2);

    let out = run(streamdrop(&data).arg("submit").arg(&clip).args(["--wait", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rejected"], serde_json::json!([]), "{report}");
    let job = &report["accepted"][0];
    assert_eq!(job["state"], "ready", "{job}");
    let id = job["id"].as_str().unwrap();
    let stored = |s3: &Value| {
        let s3 = s3.as_str().unwrap_or_else(|| panic!("missing output in {job}"));
        let (bucket, key) = s3.strip_prefix("s3://").unwrap().split_once('/').unwrap();
        data.join("local-s3").join(bucket).join(key)
    };
    let outputs = &job["outputs"];
    assert_eq!(sha256_file(&stored(&outputs["upload"])), sha256_file(&clip));
    assert_eq!(sha256_file(&stored(&outputs["original"])), sha256_file(&clip), "the original is kept");
    let master = std::fs::read_to_string(stored(&outputs["playlist"])).unwrap();
    assert!(master.contains("#EXT-X-STREAM-INF"), "{master}");
    assert!(stored(&outputs["poster"]).is_file());

    // A folder without video is refused in one line, and records nothing.
    let empty = tmp.path().join("no video here");
    std::fs::create_dir_all(empty.join("inside")).unwrap();
    std::fs::write(empty.join("inside/notes.txt"), "scene 4").unwrap();
    let out = run(streamdrop(&data).arg("submit").arg(&empty).arg("--wait"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        ["streamdrop: no video here has no video files. Drop a folder or card that holds clips."],
        "{stderr}"
    );

    let out = run(streamdrop(&data).args(["jobs", "--json"]));
    assert!(out.status.success());
    let jobs: Value = serde_json::from_slice(&out.stdout).unwrap();
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["id"], id);
    assert_eq!(jobs[0]["fileName"], "interview take 1.mp4");
}

#[test]
fn submit_without_wait_queues_the_job_for_the_next_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let clip = make_clip(tmp.path(), "queued.mp4", 1);
    let out = run(streamdrop(&data).arg("submit").arg(&clip).arg("--json"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"][0]["state"], "queued", "{report}");

    // `serve` runs the engine, which picks the job up.
    let (_server, _) = serve(&data, true);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let out = run(streamdrop(&data).args(["jobs", "--json"]));
        let jobs: Value = serde_json::from_slice(&out.stdout).unwrap();
        if jobs[0]["state"] == "ready" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "queued job never ran: {jobs}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // A local link says, apart from the link itself, where it plays.
    let id = report["accepted"][0]["id"].as_str().unwrap();
    let out = run(streamdrop(&data).args(["link", id]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let url = String::from_utf8_lossy(&out.stdout);
    assert!(url.trim().starts_with("http://127.0.0.1:") && url.lines().count() == 1, "stdout is the link alone: {url}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plays only on this computer") && stderr.contains("add an AWS connection"), "{stderr}");
}

#[test]
fn submit_refuses_what_is_not_video_before_sending_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let notes = tmp.path().join("shot list.txt");
    std::fs::write(&notes, "Scene 4: take 2 is the good one").unwrap();
    let clip = make_clip(tmp.path(), "A001.mp4", 1);

    let out = run(streamdrop(&data).arg("submit").arg(&notes).arg(&clip).arg("--json"));
    assert!(!out.status.success(), "a refused file fails the command");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"].as_array().map(Vec::len), Some(1), "{report}");
    let rejected = &report["rejected"][0];
    assert_eq!(rejected["fileName"], "shot list.txt", "{report}");
    assert_eq!(rejected["problem"]["code"], "not-media", "{report}");
    assert_eq!(rejected["problem"]["remedy"], "none", "{report}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("streamdrop: shot list.txt is not a video or audio file Streamdrop can read."), "{stderr}");
    assert!(!stderr.contains("ffprobe") && !stderr.contains("detail:"), "the detail only with --verbose: {stderr}");

    let out = run(streamdrop(&data).arg("submit").arg(&notes).arg("--verbose"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("  detail: "), "--verbose adds the detail: {stderr}");

    // Only the clip was recorded; nothing of the text file was stored anywhere.
    let out = run(streamdrop(&data).args(["jobs", "--json"]));
    let jobs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs}");
    assert_eq!(jobs[0]["fileName"], "A001.mp4");
}

/// A Sony card on disk: two clips (one with a hostile name), their sidecars,
/// and what macOS and Windows leave on a card.
fn sony_card(root: &Path, name: &str) -> std::path::PathBuf {
    let card = root.join(name);
    let clips = card.join("PRIVATE/M4ROOT/CLIP");
    std::fs::create_dir_all(&clips).unwrap();
    // Sizes of their own: ffmpeg's test source gives the same bytes for the same settings.
    make_clip_sized(&clips, "C0001.MP4", "320x180", 1);
    make_clip_sized(&clips, "-C0002 #2 ü 50% a?b+c.MP4", "322x180", 1);
    std::fs::write(clips.join("C0001M01.XML"), "<NonRealTimeMeta/>").unwrap();
    std::fs::write(clips.join("._C0001.MP4"), "AppleDouble").unwrap();
    std::fs::write(card.join(".DS_Store"), "x").unwrap();
    std::fs::write(card.join("PRIVATE/M4ROOT/MEDIAPRO.XML"), "<MediaProfile/>").unwrap();
    card
}

#[test]
fn submit_takes_a_card_and_a_card_submitted_again_adds_no_job_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let card = sony_card(tmp.path(), "A001 card #1");

    let out = run(streamdrop(&data).arg("submit").arg(&card).args(["--wait", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["rejected"].clone(), report["duplicates"].clone()), (json!([]), json!([])), "{report}");
    let jobs = report["accepted"].as_array().unwrap();
    let paths: Vec<_> = jobs.iter().map(|j| j["relativePath"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        ["A001 card #1/PRIVATE/M4ROOT/CLIP/-C0002 #2 ü 50% a?b+c.MP4", "A001 card #1/PRIVATE/M4ROOT/CLIP/C0001.MP4"]
    );
    let batch = jobs[0]["batchId"].as_str().unwrap();
    for job in jobs {
        assert_eq!(job["state"], "ready", "{job}");
        let rel = job["relativePath"].as_str().unwrap();
        assert_eq!(job["outputs"]["upload"], format!("s3://streamdrop-uploads/uploads/{batch}/{rel}"));
        let stored = data.join("local-s3/streamdrop-uploads/uploads").join(batch).join(rel);
        assert_eq!(sha256_file(&stored), sha256_file(&tmp.path().join(rel)), "{rel}");
    }
    let first_ids: Vec<_> = jobs.iter().map(|j| j["id"].clone()).collect();

    // `jobs --json` tells each job's path on the card.
    let listed: Value = serde_json::from_slice(&run(streamdrop(&data).args(["jobs", "--json"])).stdout).unwrap();
    let listed_keys: Vec<_> = listed.as_array().unwrap().iter().map(|j| j["uploadKey"].clone()).collect();
    assert_eq!(listed_keys, paths.iter().map(|rel| json!(format!("uploads/{batch}/{rel}"))).collect::<Vec<_>>());

    // Again, by default: nothing added, and what was skipped names the job that has it.
    let out = run(streamdrop(&data).arg("submit").arg(&card).arg("--json"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["accepted"], json!([]), "{again}");
    let skipped: Vec<_> = again["duplicates"].as_array().unwrap().iter().map(|d| d["existingJob"].clone()).collect();
    assert_eq!(skipped, first_ids, "{again}");
    assert!(again["duplicates"].as_array().unwrap().iter().all(|d| d["existingState"] == "ready"), "{again}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 files are already on this connection, so they were skipped"), "{stderr}");
    let count = || {
        let out = run(streamdrop(&data).args(["jobs", "--json"]));
        serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().len()
    };
    assert_eq!(count(), 2);

    // --if-exists fail: non-zero, a plain reason with what to do, nothing added.
    let out = run(streamdrop(&data).arg("submit").arg(&card).args(["--if-exists", "fail"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Some of these files are already on this connection (2, among them"), "{stderr}");
    assert!(stderr.contains("--if-exists again"), "{stderr}");
    assert_eq!(count(), 2);

    // --if-exists again: new jobs all the same.
    let out = run(streamdrop(&data).arg("submit").arg(&card).args(["--if-exists", "again", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let forced: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(forced["accepted"].as_array().map(Vec::len), Some(2), "{forced}");
    assert_eq!(count(), 4);

    let out = run(streamdrop(&data).arg("submit").arg(&card).args(["--if-exists", "maybe"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skip, again, fail"), "{stderr}");
}

#[test]
fn the_same_card_submitted_twice_at_once_gives_its_jobs_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let card = sony_card(tmp.path(), "D001");
    // Both processes read the card at the same time; their batches are recorded one after the other.
    let children: Vec<_> = (0..2)
        .map(|_| {
            streamdrop(&data)
                .args(["--verbose", "submit"])
                .arg(&card)
                .arg("--json")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let reports: Vec<Value> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    let added: Vec<_> = reports.iter().map(|r| r["accepted"].as_array().unwrap().len()).collect();
    let skipped: Vec<_> = reports.iter().map(|r| r["duplicates"].as_array().unwrap().len()).collect();
    assert_eq!(added.iter().sum::<usize>(), 2, "{reports:?}");
    assert_eq!(skipped.iter().sum::<usize>(), 2, "{reports:?}");
    let listed: Value = serde_json::from_slice(&run(streamdrop(&data).args(["jobs", "--json"])).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[test]
fn jobs_filters_by_state_and_name_and_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let card = sony_card(tmp.path(), "C001");
    let out = run(streamdrop(&data).arg("submit").arg(&card));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let jobs = |args: &[&str]| {
        let out = run(streamdrop(&data).arg("jobs").args(args).arg("--json"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let paths: Vec<String> =
            listed.as_array().unwrap().iter().map(|j| j["relativePath"].as_str().unwrap().to_owned()).collect();
        (paths, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (all, _) = jobs(&[]);
    assert_eq!(all, ["C001/PRIVATE/M4ROOT/CLIP/-C0002 #2 ü 50% a?b+c.MP4", "C001/PRIVATE/M4ROOT/CLIP/C0001.MP4"]);
    assert_eq!(jobs(&["--search", "c0001"]).0, [all[1].clone()]);
    assert_eq!(jobs(&["--search", "#2 Ü"]).0, Vec::<String>::new(), "case is ignored for ASCII only");
    assert!(jobs(&["--state", "ready"]).0.is_empty());
    assert_eq!(jobs(&["--state", "ready", "--state", "queued"]).0, all);
    let (page, stderr) = jobs(&["--state", "queued", "--limit", "1", "--offset", "1"]);
    assert_eq!(page, [all[1].clone()]);
    assert!(stderr.contains("showing jobs 2–2 of 2"), "{stderr}");

    let out = run(streamdrop(&data).args(["jobs", "--state", "done"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("queued, uploading, paused, copying, transcoding, ready, failed, cancelled"), "{stderr}");
}

#[test]
fn submit_summarises_a_folder_of_many_refusals_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let card = sony_card(tmp.path(), "B001");
    for i in 0..14 {
        std::fs::write(card.join(format!("photo {i:02}.jpg")), "not a video").unwrap();
    }
    std::os::unix::fs::symlink(&card, card.join("PRIVATE/loop")).unwrap();
    let out = run(streamdrop(&data).arg("submit").arg(&card).arg("--json"));
    assert!(!out.status.success(), "refusals fail the command");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"].as_array().map(Vec::len), Some(2), "{report}");
    assert_eq!(report["rejected"].as_array().map(Vec::len), Some(15), "{report}");
    assert_eq!(
        report["rejectedCounts"],
        json!([
            {"code": "not-media", "count": 14, "label": "not video"},
            {"code": "folder-loop", "count": 1, "label": "link loops"}
        ])
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = stderr.lines().filter(|l| l.starts_with("streamdrop: ")).collect();
    assert_eq!(lines.len(), 11, "ten refusals, then the summary: {stderr}");
    assert_eq!(
        lines[10],
        "streamdrop: 15 items were skipped: 14 not video, 1 link loops. 5 more are not shown above: --json lists them all."
    );
}

/// Bytes of the parts the journal has confirmed for `job`'s upload.
/// Every entry below `root` whose mode lets anyone but its owner in: `(path, mode)`.
fn readable_by_others(root: &Path) -> (usize, Vec<(String, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    let (mut seen, mut open) = (0, Vec::new());
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = path.symlink_metadata().unwrap();
            let mode = meta.permissions().mode() & 0o777;
            let wanted = if meta.is_dir() { 0o700 } else { 0o600 };
            seen += 1;
            if mode != wanted {
                open.push((path.display().to_string(), mode));
            }
            if meta.is_dir() {
                pending.push(path);
            }
        }
    }
    (seen, open)
}

#[test]
fn everything_under_the_data_dir_is_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // As an earlier version left it: open to everyone on the machine.
    std::fs::create_dir_all(data.join("local-s3/streamdrop-media")).unwrap();
    std::fs::write(data.join("local-s3/streamdrop-media/left.txt"), "old").unwrap();
    for (path, mode) in
        [(&data, 0o755), (&data.join("local-s3"), 0o755), (&data.join("local-s3/streamdrop-media/left.txt"), 0o644)]
    {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let clip = make_clip(tmp.path(), "A001 private.mov", 1);
    let out = run(streamdrop(&data).args(["submit", "--wait", "--json"]).arg(&clip));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let root_mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(root_mode, 0o700, "the data dir itself");
    let (seen, open) = readable_by_others(&data);
    assert!(seen > 20, "the store, the S3 data, the job's outputs: {seen} entries");
    assert!(open.is_empty(), "readable by others: {open:#?}");
}

#[test]
fn ffmpeg_and_ffprobe_get_no_credentials_or_signed_urls_in_their_arguments_or_environment() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // Wrappers first on PATH record each run's arguments and environment, then run the real tool.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = tmp.path().join("children.log");
    for tool in ["ffmpeg", "ffprobe"] {
        let real = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap();
        let real = String::from_utf8(real.stdout).unwrap().trim().to_owned();
        assert!(!real.is_empty(), "{tool} is installed");
        let wrapper = bin.join(tool);
        let script = format!(
            "#!/bin/sh\n{{ echo \"== {tool}\"; printf '%s\\n' \"$@\"; env; }} >> '{}'\nexec '{real}' \"$@\"\n",
            log.display()
        );
        std::fs::write(&wrapper, script).unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let clip = make_clip(tmp.path(), "B002 child.mov", 1);
    let out = run(streamdrop(&data)
        .args(["submit", "--wait"])
        .arg(&clip)
        .env("PATH", path)
        .env("AWS_ACCESS_KEY_ID", "AKIDCHILDPROCESS")
        .env("AWS_SECRET_ACCESS_KEY", "sd-child-secret-5c1d")
        .env("AWS_SESSION_TOKEN", "sd-child-token-8e2f"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let recorded = std::fs::read_to_string(&log).expect("the wrappers ran");
    assert!(recorded.contains("== ffprobe") && recorded.contains("== ffmpeg"), "both tools ran");
    for secret in ["AKIDCHILDPROCESS", "sd-child-secret-5c1d", "sd-child-token-8e2f", "X-Amz-Signature", "Signature="] {
        assert!(!recorded.contains(secret), "{secret} reached a child process:\n{recorded}");
    }
}

fn journalled_bytes(data: &Path, job: streamdrop_core::JobId) -> u64 {
    use streamdrop_core::store::{Store, UploadKey};
    let Ok(store) = Store::open(&data.join("streamdrop.sqlite3")) else { return 0 };
    let Ok(Some(record)) = store.get(job) else { return 0 };
    let key =
        UploadKey { target: "local".into(), dest: record.destination.clone(), source_path: record.source.path.clone() };
    store.find_upload(&key).ok().flatten().map_or(0, |u| u.parts.iter().map(|p| p.size).sum())
}

fn jobs_json(data: &Path) -> Value {
    let out = run(streamdrop(data).args(["jobs", "--json"]));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// As a person runs it: `serve` with the keys it mints itself, killed outright
/// mid-upload, started again (with new keys): the upload goes on from what the
/// journal holds, and nothing it holds is sent again.
#[test]
fn an_upload_cut_by_kill_9_resumes_when_serve_starts_again_with_new_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let clip = streamdrop_e2e::make_large_clip(tmp.path(), "A007 long take.mov", (1280, 720), 400 * 1024 * 1024);
    let out = run(streamdrop(&data).arg("submit").arg(&clip).arg("--json"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id: streamdrop_core::JobId = report["accepted"][0]["id"].as_str().unwrap().parse().unwrap();

    let (mut first, started) = serve(&data, false);
    let first_key = started["accessKeyId"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while journalled_bytes(&data, id) < 16 * 1024 * 1024 {
        assert!(std::time::Instant::now() < deadline, "the upload never got going: {}", jobs_json(&data));
        std::thread::sleep(Duration::from_millis(10));
    }
    first.child_mut().kill().unwrap(); // SIGKILL: no chance to clean up
    first.child_mut().wait().unwrap();
    let at_kill = journalled_bytes(&data, id);
    assert!(at_kill < std::fs::metadata(&clip).unwrap().len(), "killed before the upload finished");

    let (_second, started) = serve(&data, false);
    assert_ne!(started["accessKeyId"].as_str().unwrap(), first_key, "serve mints new keys each run");
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let job = loop {
        let jobs = jobs_json(&data);
        let job =
            jobs.as_array().and_then(|j| j.iter().find(|j| j["id"] == id.to_string())).cloned().unwrap_or(Value::Null);
        assert_ne!(job["state"], "failed", "the resumed upload failed: {job}");
        if job["stage"] != "upload" && job["state"] != "uploading" && !job.is_null() {
            break job;
        }
        assert!(std::time::Instant::now() < deadline, "the upload did not finish after the restart: {job}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let resumed = job["bytesResumed"].as_u64().unwrap();
    assert!(
        resumed >= at_kill,
        "only what the journal did not hold was sent again: resumed {resumed}, journalled {at_kill}: {job}"
    );
    let stored = data.join("local-s3/streamdrop-uploads").join(format!("uploads/{id}/A007 long take.mov"));
    assert_eq!(sha256_file(&stored), sha256_file(&clip));
}

/// Any local process can connect to `serve`'s servers. Hundreds of
/// connections that never finish a request (a slowloris) take at most a share
/// of its file descriptors, even where a process may open only 256 (macOS's
/// default); each is cut once its request head is late; and both servers
/// answer as soon as the flood ends.
#[tokio::test]
async fn a_connection_flood_takes_a_bounded_share_of_serves_files_and_is_cut_when_idle() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tmp = tempfile::tempdir().unwrap();
    let mut limited = Command::new("prlimit");
    limited.args(["--nofile=256", "--"]).arg(built_binary("streamdrop"));
    let (server, started) = serve_as(in_test_env(limited, &tmp.path().join("data")), false);
    let authority = |url: &str| url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let s3 = authority(started["s3Endpoint"].as_str().unwrap());
    let edge = authority(started["edgeUrl"].as_str().unwrap());
    let open_files = || std::fs::read_dir(format!("/proc/{}/fd", server.pid())).unwrap().count();

    let mut flood = Vec::new();
    for addr in [&s3, &edge] {
        for _ in 0..300 {
            // Once the listen backlog is full, connecting waits: the flood is as big as it gets.
            let Ok(Ok(mut socket)) =
                tokio::time::timeout(Duration::from_millis(500), tokio::net::TcpStream::connect(addr.as_str())).await
            else {
                break;
            };
            let _ = socket.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n").await;
            flood.push(socket);
        }
    }
    assert!(flood.len() > 256, "the flood got only {} connections in", flood.len());
    let mut most_open = open_files();
    // The first connections were accepted: the server must cut them (30 s head limit), not wait forever.
    let first = &mut flood[0];
    let cut = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0; 256];
        loop {
            match first.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    most_open = most_open.max(open_files());
    assert!(cut.is_ok(), "a connection that never finished its request head was kept for a minute");
    assert!(most_open < 200, "serve had {most_open} files open of the 256 it may");
    drop(flood);

    // Both servers answer at once when the flood has gone.
    let s3_answer = tokio::time::timeout(Duration::from_secs(20), http_status(&s3, "/streamdrop-uploads")).await;
    assert_eq!(s3_answer.expect("the S3 server answers"), 403, "unsigned: refused, but answered");
    let edge_answer = tokio::time::timeout(Duration::from_secs(20), http_status(&edge, "/jobs/x/stream/m.m3u8")).await;
    assert_eq!(edge_answer.expect("the edge answers"), 403);
}

/// The status of a plain HTTP/1.1 GET.
async fn http_status(authority: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).split_whitespace().nth(1).unwrap_or("0").parse().unwrap()
}

/// `setup --permissions` prints the two policies the connection's identity
/// needs (the ones the AWS-connection tests grant, and nothing more), from
/// the settings alone: no AWS call, no keychain.
#[test]
fn setup_permissions_prints_the_policies_to_grant() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_dir = streamdrop_core::DataDir::at(&data).unwrap();
    crate::common::aws_connection(&data_dir, "http://127.0.0.1:9", "AKIDEXAMPLE", "secret");
    let out = run(streamdrop(&data).args(["setup", "--permissions", "--name-prefix", "acme-video", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = streamdrop_core::provisioning::Names::from_prefix("acme-video").unwrap();
    let expected = streamdrop_core::provisioning::permissions::needed(
        &names,
        "aws",
        streamdrop_core::credentials::TranscoderKind::MediaConvert,
    );
    assert_eq!(printed, serde_json::to_value(&expected).unwrap());
    let daily = printed["daily"].to_string();
    assert!(daily.contains("arn:aws:iam::*:role/acme-video-mediaconvert") && daily.contains("iam:PassRole"), "{daily}");
    assert!(!out.stdout.windows(6).any(|w| w == b"secret"), "no secret in the output");

    let text = run(streamdrop(&data).args(["setup", "--permissions", "--name-prefix", "acme-video"]));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("# To run `streamdrop setup`") && text.contains("\"s3:CreateBucket\""), "{text}");
}

/// Beside a running `serve` (its own minted keys, and no Secret Service on
/// this session bus, as on a headless box), the CLI works on serve's engine
/// over the control channel: a job submitted starts at once, `--wait`
/// follows it there, `jobs` shows live states, `link` is signed with the key
/// the running edge checks (ffmpeg plays it), and job actions are done by
/// that engine. With nothing running, an action says what to start.
#[test]
fn the_cli_beside_a_running_serve_works_on_its_engine_without_a_keychain() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // No Secret Service: a bus address nobody listens on.
    let no_keychain = |mut cmd: Command| {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", tmp.path().join("no-bus").display()));
        cmd
    };
    let first = make_clip(tmp.path(), "first take.mp4", 1);
    let second = make_clip(tmp.path(), "second take.mp4", 1);
    let out = run(no_keychain(streamdrop(&data)).args(["pause", "00000000-0000-4000-8000-000000000001"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Open the app or start streamdrop serve"), "{stderr}");

    let (_server, _) = serve_as(no_keychain(streamdrop(&data)), false);

    // Without --wait: serve's engine takes it at once (no waiting for a next start).
    let out = run(no_keychain(streamdrop(&data)).arg("submit").arg(&first).arg("--json"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first_id = report["accepted"][0]["id"].as_str().unwrap().to_owned();

    // With --wait, from another folder (relative path): followed until ready.
    let out = run(no_keychain(streamdrop(&data)).current_dir(tmp.path()).args([
        "submit",
        "second take.mp4",
        "--wait",
        "--json",
    ]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = &report["accepted"][0];
    assert_eq!(job["state"], "ready", "{report}");
    assert_eq!(job["sourcePath"], second.display().to_string());
    let second_id = job["id"].as_str().unwrap().to_owned();

    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let out = run(no_keychain(streamdrop(&data)).args(["jobs", "--json"]));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let jobs: Value = serde_json::from_slice(&out.stdout).unwrap();
        let state_of = |id: &str| jobs.as_array().unwrap().iter().find(|j| j["id"] == id).map(|j| j["state"].clone());
        if state_of(&first_id) == Some(json!("ready")) && state_of(&second_id) == Some(json!("ready")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the first job never ran: {jobs}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Preferences changed through the running engine: checked there, kept, and a
    // link made without --expires-in lasts the preferred lifetime.
    let out = run(no_keychain(streamdrop(&data)).args(["preferences", "--uploads-at-once", "9"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Uploads at once must be from 1 to 8. Change it, then save again."), "{stderr}");
    let out = run(no_keychain(streamdrop(&data)).args(["preferences", "--link-lifetime", "3h", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let preferences: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (preferences["linkLifetimeSecs"].as_u64(), preferences["uploadConcurrency"].as_u64()),
        (Some(10_800), Some(2))
    );
    let settings = std::fs::read_to_string(data.join("settings.json")).unwrap();
    assert!(settings.contains("\"linkLifetimeSecs\": 10800"), "{settings}");

    let out = run(no_keychain(streamdrop(&data)).args(["link", &second_id]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let played =
        Command::new("ffmpeg").args(["-v", "error", "-i", &url, "-map", "0", "-f", "null", "-"]).output().unwrap();
    assert!(played.status.success(), "the link plays at the running edge: {}", String::from_utf8_lossy(&played.stderr));

    // Listed, then revoked through the running engine: the next request fails.
    let out = run(no_keychain(streamdrop(&data)).args(["links", &second_id, "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let links: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(links.as_array().map(Vec::len), Some(1), "{links}");
    assert_eq!((links[0]["url"].as_str(), &links[0]["revokedAt"]), (Some(url.as_str()), &Value::Null));
    let lasts = links[0]["expiresAt"].as_i64().unwrap() - links[0]["createdAt"].as_i64().unwrap();
    assert!((10_799_000..=10_801_000).contains(&lasts), "the preferred 3 hours: {lasts} ms");
    let link_id = links[0]["id"].as_str().unwrap().to_owned();
    let out = run(no_keychain(streamdrop(&data)).args(["revoke", &link_id]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let refused = Command::new("ffprobe").args(["-v", "error", &url]).output().unwrap();
    assert!(
        !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("403"),
        "a revoked link is refused: {}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let out = run(no_keychain(streamdrop(&data)).args(["links", &second_id]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\trevoked\t"), "{}", String::from_utf8_lossy(&out.stdout));

    let out = run(no_keychain(streamdrop(&data)).args(["pause", &second_id]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("The job is ready, so it cannot be paused"), "{stderr}");
}

/// A profile connection whose IAM Identity Center sign-in has expired says to
/// run `aws sso login`; one naming a profile that does not exist says so. Both
/// are told without reaching the network.
#[test]
fn a_profile_whose_sso_sign_in_expired_or_that_does_not_exist_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, home) = (tmp.path().join("data"), tmp.path().join("home"));
    std::fs::create_dir_all(home.join(".aws/sso/cache")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        "[profile studio]\nsso_session = studio\nsso_account_id = 123456789012\nsso_role_name = Editor\nregion = \
         us-east-1\n\n[sso-session studio]\nsso_start_url = https://studio.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .unwrap();
    // The token `aws sso login` left yesterday, without a refresh token.
    // The cache file is named by the SHA-1 of the session's name: sha1("studio").
    let cache_name = "9a12c50f2f23af9f1a313af952aee2b30627ac7b";
    std::fs::write(
        home.join(format!(".aws/sso/cache/{cache_name}.json")),
        r#"{"accessToken": "expired", "expiresAt": "2020-01-01T00:00:00Z", "region": "us-east-1", "startUrl": "https://studio.awsapps.com/start"}"#,
    )
    .unwrap();
    let sd = || {
        let mut cmd = streamdrop(&data);
        cmd.env("HOME", &home).env_remove("AWS_CONFIG_FILE").env_remove("AWS_SHARED_CREDENTIALS_FILE");
        cmd
    };
    for (name, profile) in [("Studio", "studio"), ("Typo", "stuido")] {
        let out = run(sd().args(["connection", "add", name, "--profile", profile]));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    let out = run(sd().args(["connection", "check", "Studio"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("The AWS sign-in (IAM Identity Center) of connection Studio has expired. Sign in again with `aws sso login --profile`"),
        "{stderr}"
    );
    let out = run(sd().args(["connection", "check", "Typo"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Connection Typo names an AWS profile that ~/.aws/config does not define."), "{stderr}");
}
