//! The real app window under Xvfb, driven by tauri-driver and WebKitWebDriver.
//! Needs a display, a D-Bus session and the app built with `--features e2e`;
//! `scripts/test-all.sh` provides all three and runs these with `--include-ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use streamdrop_e2e::window::{app_pid, request_close, window_titles};
mod connections;

use streamdrop_e2e::{
    artifacts_dir, built_binary, free_port, make_clip, make_clip_sized, make_large_clip, sha256_file, wait_for_port,
    ChildGuard,
};

const READY_ROW: &str = r#"[data-testid="job-row"][data-state="ready"]"#;

/// tauri-driver on a free port, with the app's data and HOME in a temp dir.
struct Driver {
    guard: ChildGuard,
    port: u16,
}

impl Driver {
    fn port(&self) -> u16 {
        self.port
    }
}

fn start_driver(home: &Path, data_dir: &Path) -> Driver {
    start_driver_with_path(home, data_dir, None, &[])
}

/// As [`start_driver`], with `bin_first` searched first for programs the app
/// runs, and `env` set for it (e.g. where the AWS SDKs find a stand-in).
fn start_driver_with_path(home: &Path, data_dir: &Path, bin_first: Option<&Path>, env: &[(&str, &str)]) -> Driver {
    let port = free_port();
    let native_port = free_port();
    let mut cmd = Command::new(tauri_driver());
    cmd.args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .env("HOME", home)
        .env("STREAMDROP_DATA_DIR", data_dir)
        .env("NO_AT_BRIDGE", "1")
        .envs(env.iter().copied());
    if let Some(bin) = bin_first {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let joined = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&path)));
        cmd.env("PATH", joined.expect("a PATH"));
    }
    let guard = ChildGuard::spawn("tauri-driver", &mut cmd);
    assert!(wait_for_port(port, Duration::from_secs(20)), "tauri-driver did not listen on {port}");
    Driver { guard, port }
}

/// A temp dir with `home/`, `data/` and `card/`, and tauri-driver for it.
struct Session {
    tmp: tempfile::TempDir,
    driver: Driver,
}

impl Session {
    fn start() -> Self {
        Self::start_with_path(None)
    }

    /// A session whose app finds programs in `bin_first` before the system's.
    fn start_with_path(bin_first: Option<&Path>) -> Self {
        Self::start_with(bin_first, &[])
    }

    /// A session whose app finds programs in `bin_first` first and runs with `env` set.
    fn start_with(bin_first: Option<&Path>, env: &[(&str, &str)]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        for dir in ["home", "data", "card"] {
            std::fs::create_dir_all(tmp.path().join(dir)).unwrap();
        }
        let driver = start_driver_with_path(&tmp.path().join("home"), &tmp.path().join("data"), bin_first, env);
        Session { tmp, driver }
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    fn card(&self) -> PathBuf {
        self.tmp.path().join("card")
    }

    /// The app, its window loaded and the backend started.
    async fn open(&self) -> Client {
        let client = open_app(&self.driver).await;
        wait_until(
            &client,
            "the backend to start",
            Duration::from_secs(60),
            "return document.querySelector('[data-testid=\"app-status\"]')?.textContent.includes('Local mode')",
        )
        .await;
        client
    }

    fn app_pid(&self) -> Option<u32> {
        app_pid(&built_binary("streamdrop-desktop"), &self.data())
    }
}

/// Drops `paths` on the window (through the same code as a native drop).
async fn drop_files(client: &Client, paths: &[PathBuf]) -> Value {
    client
        .execute(
            "return window.__TAURI_INTERNALS__.invoke('e2e_drop_paths', { paths: arguments[0] })",
            vec![json!(paths)],
        )
        .await
        .expect("inject the drop")
}

/// The rows as the window shows them, top to bottom.
const ROWS: &str = r#"
return [...document.querySelectorAll('[data-testid="job-row"]')].map(r => ({
  id: r.dataset.jobId,
  state: r.dataset.state,
  name: r.querySelector('.name')?.textContent,
  badge: r.querySelector('[data-testid="job-state"]')?.textContent,
  label: r.querySelector('[data-testid="job-progress-label"]')?.textContent ?? null,
  finishing: !!r.querySelector('[data-testid="job-finishing"]'),
  resumed: r.querySelector('[data-testid="job-resumed"]')?.textContent ?? null,
  percent: Number(r.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow') ?? -1),
}));
"#;

async fn rows(client: &Client) -> Vec<Value> {
    client.execute(ROWS, vec![]).await.expect("read the rows").as_array().cloned().unwrap_or_default()
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Waits until a row's upload has sent something.
async fn upload_under_way(client: &Client) {
    wait_until(
        client,
        "the upload to be under way",
        Duration::from_secs(60),
        r#"
        const r = document.querySelector('[data-testid="job-row"][data-state="uploading"] [role="progressbar"]');
        return r && Number(r.getAttribute('aria-valuenow')) > 0;
    "#,
    )
    .await;
}

/// Saves what the window shows now, once WebKit has painted the latest DOM
/// (two animation frames: the change is then composited).
async fn save_screenshot(client: &Client, name: &str) {
    // WebKitWebDriver now and then loses an async script's answer while a video
    // plays ("Could not parse script result"); the picture is an artifact, so
    // ask again rather than fail the test over it.
    for _ in 0..3 {
        let painted = client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
        if painted.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(artifacts_dir().join(name), &png).unwrap();
}

/// Waits until a process is gone.
fn wait_for_exit(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    let installed = home.join("bin/tauri-driver");
    if installed.is_file() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

async fn open_app(driver: &Driver) -> Client {
    open_app_on(driver.port()).await
}

/// A WebDriver session with the app, through the tauri-driver on `port`.
async fn open_app_on(port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("tauri:options".into(), json!({ "application": built_binary("streamdrop-desktop") }));
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session with the app")
}

/// The preview video's state, for a failure message.
const VIDEO_STATE: &str = r#"
const v = document.querySelector('video');
if (!v) return null;
const ranges = [];
for (let i = 0; i < v.buffered.length; i++) ranges.push([v.buffered.start(i), v.buffered.end(i)]);
return { readyState: v.readyState, networkState: v.networkState, paused: v.paused, ended: v.ended, seeking: v.seeking, stall: v.dataset.stall, currentTime: v.currentTime,
  duration: v.duration, buffered: ranges, error: v.error && v.error.code, src: (v.currentSrc || '').slice(0, 40) };
"#;

/// One app window at a time: two apps decoding video and running ffmpeg at
/// once on two cores starve each other's media pipeline.
static ONE_WINDOW_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Polls `script` until it returns something truthy, or fails with what it last saw.
async fn wait_until(client: &Client, what: &str, timeout: Duration, script: &str) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let value = client.execute(script, vec![]).await.expect("execute script");
        let truthy = !matches!(value, Value::Null | Value::Bool(false)) && value != json!("") && value != json!(0);
        if truthy {
            return value;
        }
        if Instant::now() > deadline {
            let body = client.execute("return document.body.innerText", vec![]).await.unwrap_or_default();
            let video = client.execute(VIDEO_STATE, vec![]).await.unwrap_or_default();
            panic!("timed out waiting for {what}; the window shows:\n{body}\nvideo: {video}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `--ok` in ui/src/app.css: the Ready badge's text colour.
const READY_GREEN: [u8; 3] = [0x17, 0x80, 0x3d];

fn count_near(rgb: &[[u8; 3]], colour: [u8; 3]) -> usize {
    rgb.iter().filter(|p| p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 24)).count()
}

fn decode_rgb(png_bytes: &[u8]) -> Vec<[u8; 3]> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG screenshot");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let channels = info.color_type.samples();
    buf[..info.buffer_size()].chunks(channels).map(|p| [p[0], p[1], p[2]]).collect()
}

async fn screenshot_showing(client: &Client, what: &str, shows: impl Fn(&[[u8; 3]]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let png = client.screenshot().await.expect("screenshot");
        if shows(&decode_rgb(&png)) {
            return png;
        }
        if Instant::now() > deadline {
            std::fs::write(artifacts_dir().join("e2e-upload-failed.png"), &png).unwrap();
            panic!("the window never showed {what}; see test-artifacts/e2e-upload-failed.png");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Truthy once the preview video has advanced, decoded frames and drawn a
/// picture that is not a single colour (polled, so each call compares with the last).
const PLAYBACK_PROBE: &str = r#"
const v = document.querySelector('[data-testid="preview-video"]');
if (!v) return false;
if (v.error) throw new Error('video error ' + v.error.code + ': ' + v.error.message);
const frames = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
const last = window.__probe || { t: -1, frames: -1, advanced: 0 };
if (v.currentTime > last.t && frames > last.frames && last.t >= 0) last.advanced += 1;
last.t = v.currentTime; last.frames = frames; window.__probe = last;
if (last.advanced < 2 || v.readyState < 3 || v.videoWidth === 0) return false;
const c = document.createElement('canvas'); c.width = 64; c.height = 36;
const g = c.getContext('2d'); g.drawImage(v, 0, 0, 64, 36);
const px = g.getImageData(0, 0, 64, 36).data;
let min = 255, max = 0;
for (let i = 0; i < px.length; i += 4) { min = Math.min(min, px[i]); max = Math.max(max, px[i]); }
return max - min > 40 ? { width: v.videoWidth, time: v.currentTime, frames } : false;
"#;

#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn dropping_a_clip_uploads_it_and_the_job_list_survives_a_restart() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let data = tmp.path().join("data");
    let media = tmp.path().join("card");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&media).unwrap();
    let clip = make_clip(&media, "A001_C003 harbour.mp4", 3);

    let driver = start_driver(&home, &data);
    let client = open_app(&driver).await;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(r#"[data-testid="drop-zone"]"#))
        .await
        .expect("drop zone");

    // The same code path as a native drop: a clip, and a folder with no video that must be refused.
    let notes = tmp.path().join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(notes.join("shot list.txt"), "A001 harbour, wide").unwrap();
    let report = client
        .execute(
            "return window.__TAURI_INTERNALS__.invoke('e2e_drop_paths', { paths: arguments[0] })",
            vec![json!([clip, notes])],
        )
        .await
        .expect("inject the drop");
    assert_eq!(report["accepted"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["rejected"][0]["path"], json!(notes), "{report}");

    wait_until(
        &client,
        "the clip to be uploaded, copied and transcoded",
        Duration::from_secs(180),
        &format!("return document.querySelector('{READY_ROW}') !== null"),
    )
    .await;
    let text = client.execute("return document.body.innerText", vec![]).await.unwrap();
    let text = text.as_str().unwrap();
    assert!(text.contains("A001_C003 harbour.mp4"), "{text}");
    assert!(text.contains("has no video files"), "the refused folder's reason is shown: {text}");

    // WebKit paints after the DOM changes: wait until the picture itself shows the
    // green "Ready" badge, then keep it as the artifact.
    let png = screenshot_showing(&client, "the green Ready badge", |rgb| count_near(rgb, READY_GREEN) > 40).await;
    std::fs::write(artifacts_dir().join("e2e-upload.png"), &png).unwrap();

    // The bytes really arrived in the local S3 server's storage.
    let id =
        client.execute(&format!("return document.querySelector('{READY_ROW}').dataset.jobId"), vec![]).await.unwrap();
    let stored =
        data.join("local-s3/streamdrop-uploads/uploads").join(id.as_str().unwrap()).join("A001_C003 harbour.mp4");
    assert_eq!(sha256_file(&stored), sha256_file(&clip));

    // The preview plays the HLS stream through the local edge, in the app's own player.
    client
        .find(Locator::Css(&format!(r#"{READY_ROW} [data-testid="job-action-preview"]"#)))
        .await
        .expect("a Preview button on the ready job")
        .click()
        .await
        .expect("click Preview");
    let playing = wait_until(&client, "the preview to play", Duration::from_secs(45), PLAYBACK_PROBE).await;
    assert!(playing["width"].as_u64().unwrap_or(0) > 0, "{playing}");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(artifacts_dir().join("e2e-preview.png"), &png).unwrap();
    client.close().await.expect("close the app");

    // Restart: the job is still listed as uploaded.
    let client = open_app(&driver).await;
    wait_until(
        &client,
        "the job after a restart",
        Duration::from_secs(30),
        &format!("return document.querySelectorAll('{READY_ROW}').length === 1"),
    )
    .await;
    client.close().await.expect("close the app");
    drop(driver.guard);
}

/// Truthy once the preview video has played by itself (no Play pressed):
/// decoded frames and a position past the start, or the end of a short clip.
const PLAYED_BY_ITSELF: &str = r#"
const v = document.querySelector('[data-testid="preview-video"]');
if (!v) return false;
if (v.error) throw new Error('video error ' + v.error.code + ': ' + v.error.message);
const frames = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
return (v.currentTime > 0.3 || v.ended) && frames > 2 && v.played.length > 0 ? { time: v.currentTime, frames, ended: v.ended } : false;
"#;

/// An editor's first batch: the rows keep the drop's order, jobs queued at the
/// transcoder say "Waiting" (not "Transcoding"), nothing technical shows, a
/// one-second clip's preview plays by itself in view at the bottom of the
/// list, and "Copy stream link" puts a link that plays on the system clipboard,
/// with the note that local links only play here.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn a_dropped_batch_keeps_its_order_waits_plainly_previews_short_clips_and_copies_links() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let session = Session::start();
    let names = [
        "E001 wide.mp4",
        "E002 mid.mp4",
        "E003 close.mp4",
        "E004 insert.mp4",
        "E005 cutaway.mp4",
        "E006 one second.mp4",
    ];
    let clips: Vec<PathBuf> = names.iter().map(|n| make_clip_sized(&session.card(), n, "320x180", 1)).collect();
    let client = session.open().await;

    let report = drop_files(&client, &clips).await;
    assert_eq!(report["accepted"].as_array().map(Vec::len), Some(6), "{report}");
    wait_until(
        &client,
        "six rows",
        Duration::from_secs(20),
        "return document.querySelectorAll('[data-testid=\"job-row\"]').length === 6",
    )
    .await;
    let shown: Vec<String> =
        rows(&client).await.iter().map(|r| r["name"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(shown, names, "a drop's files are listed in the order they were dropped");

    // One transcode at a time locally: the rest wait, and say so.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = rows(&client).await;
        let transcoding = now.iter().filter(|r| r["badge"] == "Transcoding").count();
        let waiting = now.iter().filter(|r| r["badge"] == "Waiting" && r["label"] == "Waiting to transcode").count();
        assert!(transcoding <= 1, "more jobs claim to be transcoding than the transcoder runs: {now:?}");
        if transcoding == 1 && waiting >= 1 {
            save_screenshot(&client, "e2e-waiting.png").await;
            break;
        }
        assert!(Instant::now() < deadline, "never saw a job waiting for the transcoder: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_until(
        &client,
        "all six ready",
        Duration::from_secs(180),
        &format!("return document.querySelectorAll('{READY_ROW}').length === 6"),
    )
    .await;
    let text = client.execute("return document.body.innerText", vec![]).await.unwrap();
    assert!(!text.as_str().unwrap().contains("s3://"), "no storage paths in the window: {text}");

    // The bottom row's preview opens in view and a one-second clip plays without Play being pressed.
    let last = rows(&client).await.last().cloned().unwrap();
    click(&client, &format!(r#"[data-job-id="{}"] [data-testid="job-action-preview"]"#, last["id"].as_str().unwrap()))
        .await;
    wait_until(
        &client,
        "the player to be in view",
        Duration::from_secs(10),
        r#"
        const p = document.querySelector('[data-testid="preview-player"]');
        if (!p) return false;
        const r = p.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight + 1;
    "#,
    )
    .await;
    let played =
        wait_until(&client, "the short clip to play by itself", Duration::from_secs(30), PLAYED_BY_ITSELF).await;
    save_screenshot(&client, "e2e-short-preview.png").await;
    assert!(played["frames"].as_u64().unwrap_or(0) > 2, "{played}");
    click(&client, r#"[data-testid="preview-close"]"#).await;

    // Copy a stream link: it is on the system clipboard, and it plays.
    let first = rows(&client).await[0]["id"].as_str().unwrap().to_owned();
    click(&client, &format!(r#"[data-job-id="{first}"] [data-testid="job-action-share"]"#)).await;
    let note = client.find(Locator::Css(r#"[data-testid="share-local-note"]"#)).await.expect("the local-links note");
    assert!(
        note.text().await.unwrap().contains("only on this computer"),
        "the share panel says where local links play"
    );
    click(&client, r#"[data-testid="share-copy-stream"]"#).await;
    wait_until(
        &client,
        "the copy to be confirmed",
        Duration::from_secs(10),
        "return document.querySelector('[data-testid=\"share-copied\"]')?.textContent",
    )
    .await;
    let copied = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .output()
        .expect("xclip (scripts/setup-debian.sh installs it)");
    let url = String::from_utf8_lossy(&copied.stdout).trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:")
            && url.contains(&format!("/jobs/{first}/stream/links/"))
            && url.contains("Signature="),
        "clipboard: {url:?}"
    );
    save_screenshot(&client, "e2e-share.png").await;
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", &url])
        .output()
        .unwrap();
    assert!(probe.status.success(), "the copied link plays: {}", String::from_utf8_lossy(&probe.stderr));
    client.close().await.expect("close the app");
}

/// Closing the window mid-upload asks first; "Keep working" keeps it; "Quit"
/// quits; the next start resumes the upload where it stopped (saying so), and
/// shows "Finishing upload…" while the server puts the parts together.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn closing_mid_upload_asks_first_and_the_next_start_resumes_it() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let session = Session::start();
    let big = make_large_clip(&session.card(), "F001 long take.mov", (1280, 720), 600 * 1024 * 1024);
    let client = session.open().await;
    let pid = session.app_pid().expect("the app's process");
    drop_files(&client, std::slice::from_ref(&big)).await;
    upload_under_way(&client).await;

    assert_eq!(request_close(pid), Ok(1), "the window manager's close reaches one window");
    wait_until(
        &client,
        "the quit question",
        Duration::from_secs(10),
        "return !!document.querySelector('[data-testid=\"quit-dialog\"]')",
    )
    .await;
    let message = client.find(Locator::Css(r#"[data-testid="quit-message"]"#)).await.unwrap().text().await.unwrap();
    assert!(
        message.contains("1 job is still running") && message.contains("next time you open Streamdrop"),
        "{message}"
    );
    save_screenshot(&client, "e2e-quit-dialog.png").await;
    let shaded = decode_rgb(&std::fs::read(artifacts_dir().join("e2e-quit-dialog.png")).unwrap())[5 * 980 + 5];
    assert!(shaded.iter().all(|c| *c < 200), "the dialog shades the window behind it: corner pixel {shaded:?}");
    click(&client, r#"[data-testid="quit-keep"]"#).await;
    wait_until(
        &client,
        "the question to go",
        Duration::from_secs(5),
        "return !document.querySelector('[data-testid=\"quit-dialog\"]')",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!wait_for_exit(pid, Duration::from_millis(100)), "Keep working keeps the app");
    let before = rows(&client).await[0]["percent"].as_i64().unwrap_or(-1);
    assert!(before < 100, "still uploading when quitting: {before}%");

    request_close(pid).unwrap();
    wait_until(
        &client,
        "the quit question again",
        Duration::from_secs(10),
        "return !!document.querySelector('[data-testid=\"quit-dialog\"]')",
    )
    .await;
    let quit = client.find(Locator::Css(r#"[data-testid="quit-confirm"]"#)).await.expect("the Quit button");
    // The window goes away mid-command, so WebDriver may never answer the click.
    let _ = tokio::time::timeout(Duration::from_secs(5), quit.click()).await;
    assert!(wait_for_exit(pid, Duration::from_secs(15)), "Quit closes the app");
    // Ends the WebDriver session of the app that has gone (the driver allows one at a time).
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;

    // The next start picks the upload up where it stopped.
    let client = session.open().await;
    let mut seen_resumed = None;
    let mut seen_finishing = false;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let row = rows(&client).await.first().cloned().unwrap_or(Value::Null);
        if let Some(note) = row["resumed"].as_str() {
            seen_resumed.get_or_insert(note.to_owned());
        }
        seen_finishing |= row["finishing"] == true;
        if row["state"] != "uploading" && row["state"] != "queued" && !row.is_null() {
            assert_ne!(row["state"], "failed", "{row}");
            break;
        }
        assert!(Instant::now() < deadline, "the resumed upload did not finish: {row}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let note = seen_resumed.expect("the row says the upload was resumed");
    assert!(note.starts_with("Resumed") && note.contains("% was already sent"), "{note}");
    assert!(seen_finishing, "the row said 'Finishing upload…' while the server put the parts together");
    let id = rows(&client).await[0]["id"].as_str().unwrap().to_owned();
    let stored = session.data().join("local-s3/streamdrop-uploads/uploads").join(&id).join("F001 long take.mov");
    assert_eq!(sha256_file(&stored), sha256_file(&big));
    client.close().await.expect("close the app");
}

/// A card pulled out mid-upload: the row fails with a sentence that says the
/// file is gone and that it will resume; its Details name the app's log and
/// open the file manager on it with one click (xdg-open, recorded by a stand-in
/// on the PATH); the log says what failed and nothing secret. The card comes
/// back: the upload resumes by itself from what was sent.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn a_card_pulled_out_mid_upload_resumes_when_back_and_the_log_is_one_click_away() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let bin = tempfile::tempdir().unwrap();
    let opened = bin.path().join("xdg-open.args");
    let wrapper = bin.path().join("xdg-open");
    std::fs::write(&wrapper, format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n", opened.display())).unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let session = Session::start_with_path(Some(bin.path()));
    let card = session.card().join("CARD_B");
    std::fs::create_dir(&card).unwrap();
    let clip = make_large_clip(&card, "B001C001.mov", (640, 360), 600 * 1024 * 1024);
    let client = session.open().await;
    drop_files(&client, std::slice::from_ref(&card)).await;
    upload_under_way(&client).await;
    let pulled_out = session.card().join("card pulled out");
    std::fs::rename(&card, &pulled_out).unwrap();

    wait_until(
        &client,
        "the failed row",
        Duration::from_secs(60),
        r#"return !!document.querySelector('[data-testid="job-row"][data-state="failed"]')"#,
    )
    .await;
    let message = client.find(Locator::Css(r#"[data-testid="job-error"]"#)).await.unwrap().text().await.unwrap();
    assert!(
        message.starts_with("B001C001.mov is no longer where it was added") && message.contains("resumes by itself"),
        "{message}"
    );
    click(&client, r#"[data-testid="job-error-details-toggle"]"#).await;
    let log_file = session.data().join("logs/streamdrop.log");
    let panel = client.find(Locator::Css(r#"[data-testid="job-error-details"]"#)).await.unwrap().text().await.unwrap();
    assert!(panel.contains(&log_file.display().to_string()), "the Details name the log: {panel}");
    save_screenshot(&client, "e2e-card-pulled-out.png").await;
    click(&client, r#"[data-testid="job-copy-details-show-log"]"#).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !opened.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let args = std::fs::read_to_string(&opened).expect("the file manager was asked to open");
    assert_eq!(args.trim_end(), log_file.parent().unwrap().display().to_string());
    let log = std::fs::read_to_string(&log_file).expect("the app writes its log");
    assert!(log.contains("B001C001.mov is no longer where it was added"), "the log says what failed: {log}");
    for secret in ["Signature=", "Credential=", "aws_secret", "SecretAccessKey", "Policy="] {
        assert!(!log.contains(secret), "the log holds no secret ({secret})");
    }
    let mode = std::fs::metadata(&log_file).unwrap().permissions();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o077, 0, "the log is the user's alone");

    // The card is back: no click, the upload picks up where it was.
    std::fs::rename(&pulled_out, &card).unwrap();
    let mut seen_resumed = None;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let row = rows(&client).await.first().cloned().unwrap_or(Value::Null);
        if let Some(note) = row["resumed"].as_str() {
            seen_resumed.get_or_insert(note.to_owned());
        }
        if !["uploading", "queued", "failed"].contains(&row["state"].as_str().unwrap_or("")) {
            break;
        }
        assert!(Instant::now() < deadline, "the upload did not resume: {row}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let note = seen_resumed.expect("the row says the upload was resumed");
    assert!(note.starts_with("Resumed") && note.contains("% was already sent"), "{note}");
    let batch_keyed = walk_files(&session.data().join("local-s3/streamdrop-uploads/uploads"));
    let stored =
        batch_keyed.iter().find(|p| p.ends_with("CARD_B/B001C001.mov")).expect("the upload under its card's path");
    assert_eq!(sha256_file(stored), sha256_file(&clip));
    client.close().await.expect("close the app");
}

/// Every file under `dir`.
fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// A second launch on the same data dir starts nothing of its own: it hands
/// its file to the window that is open (which adds it) and exits at once.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn a_second_launch_hands_its_files_to_the_open_window_and_leaves() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let session = Session::start();
    let clip = make_clip(&session.card(), "G001 handed over.mp4", 1);
    let client = session.open().await;
    let edge_port = std::fs::read_to_string(session.data().join("local-edge.port")).unwrap();

    let started = Instant::now();
    let second = Command::new(built_binary("streamdrop-desktop"))
        .arg(&clip)
        .env("STREAMDROP_DATA_DIR", session.data())
        .env("HOME", session.home())
        .env("STREAMDROP_LOG", "info")
        .env("NO_AT_BRIDGE", "1")
        .output()
        .expect("run the app a second time");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "a second launch is no error: {:?}\n{stderr}", second.status);
    assert!(started.elapsed() < Duration::from_secs(15), "it leaves at once");
    assert!(String::from_utf8_lossy(&second.stdout).contains("Added 1 file(s) to the open Streamdrop"), "{second:?}");
    for started_something in ["local S3 server is running", "links made before now", "panicked"] {
        assert!(
            !stderr.contains(started_something),
            "the second launch touched something ({started_something}): {stderr}"
        );
    }
    assert_eq!(std::fs::read_to_string(session.data().join("local-edge.port")).unwrap(), edge_port);

    wait_until(&client, "the handed-over file as a job", Duration::from_secs(120),
        &format!("return [...document.querySelectorAll('{READY_ROW}')].some(r => r.innerText.includes('G001 handed over.mp4'))")).await;
    client.close().await.expect("close the app");
}

/// A process whose name is `comm` and whose environment has `HOME=home`.
fn process_with_home(comm: &str, home: &Path) -> Option<u32> {
    let wanted = format!("HOME={}", home.display()).into_bytes();
    std::fs::read_dir("/proc").ok()?.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).find(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == comm)
            && std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == wanted.as_slice()))
    })
}

/// With the login keyring locked, the system's unlock prompt comes up when the
/// app reads its signing key. The window paints at once and says what it is
/// waiting for; dismissing the prompt leaves a working app and a plain notice.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn a_locked_keyring_leaves_the_window_painted_and_the_app_working() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let (home, data, card) = (tmp.path().join("home"), tmp.path().join("data"), tmp.path().join("card"));
    for dir in [&home, &data, &card] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let (port, native_port) = (free_port(), free_port());
    // A D-Bus session of its own, whose login keyring exists and is locked.
    let script = format!(
        r#"eval "$(printf %s unlock-me | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
printf %s seed | secret-tool store --label=seed service seed account seed || exit 1
gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']" >/dev/null || exit 1
exec '{driver}' --port {port} --native-port {native_port}"#,
        driver = tauri_driver().display(),
    );
    let mut cmd = Command::new("dbus-run-session");
    cmd.args(["--", "sh", "-c", &script])
        .env("HOME", &home)
        .env("STREAMDROP_DATA_DIR", &data)
        .env("NO_AT_BRIDGE", "1")
        // Not the test session's keyring: this one gets its own daemon, files and sockets.
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_RUNTIME_DIR", &home)
        .env_remove("GNOME_KEYRING_CONTROL")
        .env_remove("SSH_AUTH_SOCK");
    // Its own process group: the driver, the keyring daemon and the app all stop with it.
    let _session = ChildGuard::spawn_group("dbus-run-session", &mut cmd);
    assert!(wait_for_port(port, Duration::from_secs(30)), "tauri-driver did not listen on {port}");

    let client = open_app_on(port).await;
    wait_until(
        &client,
        "the keychain wait to be shown",
        Duration::from_secs(20),
        "return document.querySelector('[data-testid=\"app-starting\"]')?.textContent.includes('keychain')",
    )
    .await;
    let prompter = process_with_home("gcr-prompter", &home).expect("the system's unlock prompt is up");
    save_screenshot(&client, "e2e-keychain-wait.png").await;
    let corner = decode_rgb(&std::fs::read(artifacts_dir().join("e2e-keychain-wait.png")).unwrap())[5 * 980 + 5];
    assert!(corner.iter().all(|c| *c > 200), "the window is painted, not black: {corner:?}");

    // The person dismisses the prompt.
    Command::new("kill").arg(prompter.to_string()).status().unwrap();
    wait_until(
        &client,
        "the app to start without the keychain",
        Duration::from_secs(30),
        "return document.querySelector('[data-testid=\"app-status\"]')?.textContent.includes('Local mode')",
    )
    .await;
    wait_until(&client, "a plain notice about links", Duration::from_secs(10),
        "return [...document.querySelectorAll('[data-testid=\"notice\"]')].some(n => n.textContent.includes('stop working when Streamdrop quits'))").await;
    let clip = make_clip(&card, "H001 after the prompt.mp4", 1);
    drop_files(&client, &[clip]).await;
    wait_until(
        &client,
        "the clip to be ready",
        Duration::from_secs(120),
        &format!("return !!document.querySelector('{READY_ROW}')"),
    )
    .await;
    save_screenshot(&client, "e2e-keychain-dismissed.png").await;
    client.close().await.expect("close the app");
}

/// The window's Content-Security-Policy names its own edge, and only it: a
/// page script cannot reach another local server (here one that took the
/// edge's remembered port, so the edge moved), and the preview still plays
/// from where the edge now is, under a policy that names it there.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn the_window_loads_media_only_from_its_own_edge_even_when_the_edge_moves() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let session = Session::start();
    // Another program holds the port the edge remembers: every connection it gets is counted.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    std::fs::write(session.data().join("local-edge.port"), other_port.to_string()).unwrap();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&reached);
    std::thread::spawn(move || {
        for stream in other.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let clip = make_clip_sized(&session.card(), "K001 policy.mp4", "320x180", 1);
    let client = session.open().await;

    // The edge found its port taken and moved. Whether the page loaded before the move (then it
    // is reloaded) or after, it ends up under a policy naming the edge where it is now.
    let edge_port: u16 =
        std::fs::read_to_string(session.data().join("local-edge.port")).unwrap().trim().parse().unwrap();
    assert_ne!(edge_port, other_port, "the edge cannot have the other program's port");
    let edge = format!("http://127.0.0.1:{edge_port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reached = client
            .execute_async(
                "const [edge, done] = arguments; fetch(edge + '/jobs/x/stream/m.m3u8').then(r => done(r.status), () => done('blocked'));",
                vec![json!(edge)],
            )
            .await;
        // Errors while the page reloads are part of the wait.
        if reached.is_ok_and(|status| status == json!(403)) {
            break;
        }
        assert!(Instant::now() < deadline, "the window's policy never named the edge where it moved to");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let tried = client
        .execute_async(
            r#"
            const [other, edge, done] = arguments;
            const violations = [];
            document.addEventListener('securitypolicyviolation', e => violations.push(e.effectiveDirective));
            const attempt = url => fetch(url).then(r => r.status, () => 'blocked');
            (async () => {
              const result = { other: await attempt(other + '/x.m3u8'), edge: await attempt(edge + '/jobs/x/stream/m.m3u8') };
              const img = new Image(); img.src = other + '/poster.jpg'; document.body.append(img);
              const video = document.createElement('video'); video.src = other + '/clip.mp4'; document.body.append(video);
              setTimeout(() => { img.remove(); video.remove(); done({ ...result, violations }); }, 1500);
            })();
            "#,
            vec![json!(format!("http://127.0.0.1:{other_port}")), json!(format!("http://127.0.0.1:{edge_port}"))],
        )
        .await
        .expect("try the other server and the edge");
    assert_eq!(tried["other"], "blocked", "{tried}");
    assert_eq!(tried["edge"], 403, "the edge is allowed, and refuses the unsigned request itself: {tried}");
    for directive in ["connect-src", "img-src", "media-src"] {
        assert!(tried["violations"].as_array().unwrap().contains(&json!(directive)), "{directive}: {tried}");
    }
    assert_eq!(reached.load(Ordering::SeqCst), 0, "a page script reached another local server");

    // Media from the edge where it is now still plays.
    drop_files(&client, std::slice::from_ref(&clip)).await;
    wait_until(
        &client,
        "the clip to be ready",
        Duration::from_secs(120),
        &format!("return !!document.querySelector('{READY_ROW}')"),
    )
    .await;
    let id = rows(&client).await[0]["id"].as_str().unwrap().to_owned();
    click(&client, &format!(r#"[data-job-id="{id}"] [data-testid="job-action-preview"]"#)).await;
    wait_until(&client, "the preview to play", Duration::from_secs(30), PLAYED_BY_ITSELF).await;
    client.close().await.expect("close the app");
}

/// A Sony card dropped on the window as a folder: its 12 clips (not the XML
/// sidecars, the proxies' thumbnails or the files macOS leaves) become one
/// batch under the card's name, each keyed by its path on the card; the
/// window's own title (what the taskbar shows) says how far the queue is.
/// Dropped again, the window asks once about the 12 files already there, and
/// Skip adds nothing.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn a_dropped_card_becomes_one_batch_and_dropping_it_again_asks_once() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let session = Session::start();
    let card = session.card().join("A001");
    let clips_dir = card.join("PRIVATE/M4ROOT/CLIP");
    std::fs::create_dir_all(&clips_dir).unwrap();
    let names: Vec<String> = (1..=12).map(|i| format!("C{i:04}.MP4")).collect();
    for name in &names {
        make_clip_sized(&clips_dir, name, "320x180", 1);
        std::fs::write(clips_dir.join(name.replace(".MP4", "M01.XML")), "<NonRealTimeMeta/>").unwrap();
        std::fs::write(clips_dir.join(format!("._{name}")), b"\0\x05\x16\x07").unwrap();
    }
    std::fs::write(card.join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
    std::fs::create_dir_all(card.join("PRIVATE/M4ROOT/THMBNL")).unwrap();
    std::fs::write(card.join("PRIVATE/M4ROOT/THMBNL/C0001T01.JPG"), b"\xff\xd8\xff").unwrap();
    let client = session.open().await;

    let report = drop_files(&client, std::slice::from_ref(&card)).await;
    let accepted = report["accepted"].as_array().cloned().unwrap_or_default();
    assert_eq!(accepted.len(), 12, "{report}");
    assert_eq!(
        report["rejected"].as_array().map(Vec::len),
        Some(0),
        "sidecars and hidden files are no refusals: {report}"
    );
    let batch = accepted[0]["batchId"].as_str().unwrap().to_owned();
    for (job, name) in accepted.iter().zip(&names) {
        assert_eq!(job["batchId"], batch.as_str(), "one drop, one batch");
        assert_eq!(job["relativePath"], format!("A001/PRIVATE/M4ROOT/CLIP/{name}"));
        assert_eq!(job["uploadKey"], format!("uploads/{batch}/A001/PRIVATE/M4ROOT/CLIP/{name}"), "{job}");
        // Its XML travels with it (and C0001 has the card's thumbnail too).
        assert_eq!(job["sidecars"], if name == "C0001.MP4" { 2 } else { 1 }, "{job}");
    }
    wait_until(
        &client,
        "twelve rows under one header named after the card",
        Duration::from_secs(20),
        r#"const h = document.querySelectorAll('[data-testid="batch-header"]');
           return document.querySelectorAll('[data-testid="job-row"]').length === 12 && h.length === 1
             && h[0].querySelector('[data-testid="batch-title"]').textContent === 'A001';"#,
    )
    .await;

    // The window's title, as the desktop sees it, follows the queue.
    let pid = session.app_pid().expect("the app's process");
    let deadline = Instant::now() + Duration::from_secs(60);
    let title = loop {
        let titles = window_titles(pid).unwrap();
        if let Some(t) = titles.iter().find(|t| t.starts_with("Streamdrop — ") && t.contains("% · ")) {
            break t.clone();
        }
        assert!(Instant::now() < deadline, "the window title never showed the queue's progress: {titles:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        ["uploading", "copying", "transcoding", "queued"].iter().any(|s| title.ends_with(s)),
        "the title names what goes on: {title}"
    );
    save_screenshot(&client, "e2e-card-batch.png").await;

    // The same card again: nothing is sent twice, and the window asks once.
    let again = drop_files(&client, std::slice::from_ref(&card)).await;
    assert_eq!(again["accepted"].as_array().map(Vec::len), Some(0), "{again}");
    assert_eq!(again["duplicates"].as_array().map(Vec::len), Some(12), "{again}");
    wait_until(
        &client,
        "the duplicate question",
        Duration::from_secs(10),
        r#"const p = document.querySelector('[data-testid="duplicate-prompt"]');
           return p && p.textContent.includes('12 files are already uploaded');"#,
    )
    .await;
    save_screenshot(&client, "e2e-card-duplicates.png").await;
    click(&client, r#"[data-testid="duplicates-skip"]"#).await;
    wait_until(
        &client,
        "the question gone, still twelve rows",
        Duration::from_secs(10),
        r#"return !document.querySelector('[data-testid="duplicate-prompt"]')
             && document.querySelectorAll('[data-testid="job-row"]').length === 12;"#,
    )
    .await;

    // Clear finished: the ready rows leave the list, their stored files stay.
    wait_until(
        &client,
        "a ready clip",
        Duration::from_secs(120),
        &format!("return document.querySelector('{READY_ROW}') !== null"),
    )
    .await;
    // A ready row shows its poster, decoded, from a signed URL on the app's edge (never a file path).
    let edge = format!(
        "http://127.0.0.1:{}/",
        std::fs::read_to_string(session.data().join("local-edge.port")).unwrap().trim()
    );
    let poster = wait_until(
        &client,
        "a ready row's poster",
        Duration::from_secs(30),
        &format!(
            "const img = document.querySelector('{READY_ROW} [data-testid=\"job-poster\"]');
             return img && img.complete && img.naturalWidth > 0 ? img.src : false;"
        ),
    )
    .await;
    let poster = poster.as_str().unwrap();
    assert!(poster.starts_with(&edge) && poster.contains("Signature="), "{poster} is not a signed edge URL ({edge})");
    let ready: Vec<String> = client
        .execute(&format!("return [...document.querySelectorAll('{READY_ROW}')].map(r => r.dataset.jobId)"), vec![])
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    click(&client, r#"[data-testid="queue-clear"]"#).await;
    let left = wait_until(
        &client,
        "the ready rows gone",
        Duration::from_secs(10),
        &format!(
            "const ids = [...document.querySelectorAll('[data-testid=\"job-row\"]')].map(r => r.dataset.jobId);
             return {ready:?}.every(id => !ids.includes(id)) && ids.length > 0 ? ids : false;"
        ),
    )
    .await;
    assert!(left.as_array().unwrap().len() <= 12 - ready.len(), "{left}");
    for id in &ready {
        let original = session.data().join("local-s3/streamdrop-media/jobs").join(id).join("original");
        assert!(original.is_dir(), "the cleared job's original is still stored at {}", original.display());
    }
    client.close().await.expect("close the app");
}

/// How many lines the list stands for and how many are in the page.
const LINES_IN_PAGE: &str = r#"
return {
  listed: document.querySelector('[data-testid="job-lines"]')?.dataset.lines,
  rows: document.querySelectorAll('[data-testid="job-row"]').length,
  elements: document.getElementsByTagName('*').length,
};
"#;

/// 10,000 finished jobs in the store (a season of cards): the window opens
/// with the queue summed up, keeps only the rows near the viewport in the
/// page (the list is virtual), draws the end when scrolled there, and
/// scrolls without long frames. Frame times are measured by the page itself; the bound is
/// loose (software rendering under Xvfb) and the figures are kept as an artifact.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn ten_thousand_jobs_open_and_scroll() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let session = Session::start();
    streamdrop_e2e::seed::ready_jobs(&session.data(), &session.card(), 100, 100).await;

    let client = session.open().await;
    wait_until(
        &client,
        "the list of 10,000",
        Duration::from_secs(60),
        r#"return document.querySelector('[data-testid="queue-counts"]')?.textContent === '10000 ready'
             && document.querySelectorAll('[data-testid="job-row"]').length > 0;"#,
    )
    .await;
    let lines = client.execute(LINES_IN_PAGE, vec![]).await.unwrap();
    assert_eq!(lines["listed"], json!("10100"), "10,000 rows and a header per drop: {lines}");
    assert!(lines["rows"].as_u64().unwrap() < 100, "only the rows near the viewport are in the page: {lines}");
    assert_eq!(client.title().await.unwrap(), "Streamdrop", "nothing under way");

    let times = client.execute_async(streamdrop_e2e::window::SCROLL_FRAMES, vec![]).await.expect("scroll the list");
    let mut times: Vec<f64> = times.as_array().unwrap().iter().skip(1).filter_map(Value::as_f64).collect();
    times.sort_by(f64::total_cmp);
    let p95 = times[times.len() * 95 / 100];
    std::fs::write(artifacts_dir().join("e2e-10000-jobs-frames.json"), serde_json::to_vec(&times).unwrap()).unwrap();
    assert!(p95 < 250.0, "scrolling 10,000 jobs: 95% of frames under {p95:.0} ms, over the 250 ms bound");

    // At the very end, the last rows are drawn where the viewport is, and the page still holds only a screenful.
    client.execute("window.scrollTo(0, document.documentElement.scrollHeight)", vec![]).await.unwrap();
    wait_until(
        &client,
        "the end of the list to be drawn",
        Duration::from_secs(10),
        r#"const rows = [...document.querySelectorAll('[data-testid="job-row"]')];
           return !document.querySelector('[data-testid="lines-after"]')
             && rows.some(r => { const b = r.getBoundingClientRect(); return b.bottom > 0 && b.top < innerHeight; });"#,
    )
    .await;
    save_screenshot(&client, "e2e-10000-jobs-end.png").await;
    let lines = client.execute(LINES_IN_PAGE, vec![]).await.unwrap();
    assert!(lines["rows"].as_u64().unwrap() < 100, "the page holds a screenful at the end too: {lines}");
    assert!(lines["elements"].as_u64().unwrap() < 5_000, "the DOM stays small: {lines}");
    client.close().await.expect("close the app");
}

/// The window opens where and as large as it was when closed, as a person left it.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn the_window_opens_where_and_as_large_as_it_was_closed() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let session = Session::start();
    let client = session.open().await;
    let first = client.get_window_rect().await.expect("the window's place");
    // Somewhere else, another size: what a person drags it to.
    let (x, y, width, height) = (first.0 as i64 + 60, first.1 as i64 + 40, 860_i64, 640_i64);
    client.set_window_rect(x as u32, y as u32, width as u32, height as u32).await.expect("move and resize");
    let moved = client.get_window_rect().await.unwrap();
    assert_eq!((moved.2 as i64, moved.3 as i64), (width, height), "the window took the new size");

    let pid = session.app_pid().expect("the app's process");
    assert_eq!(request_close(pid), Ok(1), "the window manager's close reaches one window");
    assert!(wait_for_exit(pid, Duration::from_secs(15)), "nothing runs, so it closes without asking");
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;

    let client = session.open().await;
    let reopened = client.get_window_rect().await.unwrap();
    assert_eq!(
        (reopened.0 as i64, reopened.1 as i64, reopened.2 as i64, reopened.3 as i64),
        (moved.0 as i64, moved.1 as i64, width, height),
        "first {first:?}, moved {moved:?}"
    );
    client.close().await.expect("close the app");
}

/// The desktop hears when work ends: one notification for a drop of several
/// clips once all are done (not one per clip), one for a clip dropped alone,
/// shown by the session's notification server.
#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn a_finished_drop_is_announced_once_by_a_system_notification() {
    use streamdrop_e2e::notifications::NotificationServer;
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let server = NotificationServer::start().expect("own org.freedesktop.Notifications on the test session bus");
    let session = Session::start();
    let client = session.open().await;

    let pair = [
        make_clip(&session.card(), "E001 dawn.mp4", 1),
        make_clip_sized(&session.card(), "E002 dusk.mp4", "320x180", 1),
    ];
    let report = drop_files(&client, &pair).await;
    assert_eq!(report["accepted"].as_array().map(Vec::len), Some(2), "{report}");
    wait_until(
        &client,
        "both clips to be ready",
        Duration::from_secs(180),
        &format!("return document.querySelectorAll('{READY_ROW}').length === 2"),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.shown().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = server.shown();
    assert_eq!(
        shown.iter().map(|s| (s.summary.as_str(), s.body.as_str())).collect::<Vec<_>>(),
        [("Your drop: 2 of 2 clips ready", "The whole drop has been sent.")],
        "{shown:?}"
    );

    let single = make_clip(&session.card(), "E003 noon.mp4", 2);
    drop_files(&client, &[single]).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    while server.shown().len() < 2 {
        assert!(Instant::now() < deadline, "no notification for the single clip: {:?}", server.shown());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let last = server.shown().pop().unwrap();
    assert_eq!(
        (last.summary.as_str(), last.body.as_str()),
        ("E003 noon.mp4 is ready", "Preview it and copy a link in Streamdrop.")
    );
    assert_eq!(server.shown().len(), 2, "each end told once");
    client.close().await.expect("close the app");
}
