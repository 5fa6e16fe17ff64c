//! The real app window under Xvfb, driven by tauri-driver and WebKitWebDriver.
//! Needs a display, a D-Bus session and the app built with `--features e2e`;
//! `scripts/test-all.sh` provides all three and runs these with `--include-ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use streamdrop_e2e::{artifacts_dir, built_binary, free_port, make_clip, sha256_file, wait_for_port, ChildGuard};

const READY_ROW: &str = r#"[data-testid="job-row"][data-state="ready"]"#;

/// tauri-driver on a free port, with the app's data and HOME in a temp dir.
struct Driver {
    guard: ChildGuard,
    port: u16,
}

fn start_driver(home: &Path, data_dir: &Path) -> Driver {
    let port = free_port();
    let native_port = free_port();
    let mut cmd = Command::new(tauri_driver());
    cmd.args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .env("HOME", home)
        .env("STREAMDROP_DATA_DIR", data_dir)
        .env("NO_AT_BRIDGE", "1");
    let guard = ChildGuard::spawn("tauri-driver", &mut cmd);
    assert!(wait_for_port(port, Duration::from_secs(20)), "tauri-driver did not listen on {port}");
    Driver { guard, port }
}

fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo")
    });
    let installed = home.join("bin/tauri-driver");
    if installed.is_file() { installed } else { PathBuf::from("tauri-driver") }
}

async fn open_app(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("tauri:options".into(), json!({ "application": built_binary("streamdrop-desktop") }));
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("WebDriver session with the app")
}

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
            panic!("timed out waiting for {what}; the window shows:\n{body}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `--ok` in ui/src/app.css: the Ready badge's text colour.
const READY_GREEN: [u8; 3] = [0x17, 0x80, 0x3d];

fn count_near(rgb: &[[u8; 3]], colour: [u8; 3]) -> usize {
    rgb.iter()
        .filter(|p| p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 24))
        .count()
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
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let data = tmp.path().join("data");
    let media = tmp.path().join("card");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&media).unwrap();
    let clip = make_clip(&media, "A001_C003 harbour.mp4", 3);

    let driver = start_driver(&home, &data);
    let client = open_app(&driver).await;
    client.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(r#"[data-testid="drop-zone"]"#)).await.expect("drop zone");

    // The same code path as a native drop: a clip, and a folder that must be refused.
    let report = client
        .execute(
            "return window.__TAURI_INTERNALS__.invoke('e2e_drop_paths', { paths: arguments[0] })",
            vec![json!([clip, media])],
        )
        .await
        .expect("inject the drop");
    assert_eq!(report["accepted"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["rejected"][0]["path"], json!(media), "{report}");

    wait_until(&client, "the clip to be uploaded, copied and transcoded", Duration::from_secs(180),
        &format!("return document.querySelector('{READY_ROW}') !== null")).await;
    let text = client.execute("return document.body.innerText", vec![]).await.unwrap();
    let text = text.as_str().unwrap();
    assert!(text.contains("A001_C003 harbour.mp4"), "{text}");
    assert!(text.contains("folder"), "the refused folder's reason is shown: {text}");

    // WebKit paints after the DOM changes: wait until the picture itself shows the
    // green "Ready" badge, then keep it as the artifact.
    let png = screenshot_showing(&client, "the green Ready badge", |rgb| count_near(rgb, READY_GREEN) > 40).await;
    std::fs::write(artifacts_dir().join("e2e-upload.png"), &png).unwrap();

    // The bytes really arrived in the local S3 server's storage.
    let id = client
        .execute(&format!("return document.querySelector('{READY_ROW}').dataset.jobId"), vec![])
        .await
        .unwrap();
    let stored = data.join("local-s3/streamdrop-uploads/uploads").join(id.as_str().unwrap()).join("A001_C003 harbour.mp4");
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
    wait_until(&client, "the job after a restart", Duration::from_secs(30),
        &format!("return document.querySelectorAll('{READY_ROW}').length === 1")).await;
    client.close().await.expect("close the app");
    drop(driver.guard);
}
