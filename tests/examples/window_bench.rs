//! The desktop window at scale (#11), measured as a person runs the app:
//! cold start to the painted list, the memory of all the app's processes once
//! idle, and scroll frame times, with 0 and 10,000 jobs in the store; and the
//! intake of a big folder through the CLI. A benchmark, not a test: it prints
//! figures and asserts nothing on them. `bench/window.sh` builds what it
//! needs and runs it in a display session; see `bench/README.md`.
//!
//! Needs an X display (Xvfb), a D-Bus session, ffmpeg, and for the scroll
//! figures tauri-driver with WebKitWebDriver.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use streamdrop_e2e::window::{app_pid, request_close, Picture, Screen, SCROLL_FRAMES};
use streamdrop_e2e::{free_port, make_clip_sized, wait_for_port, ChildGuard};

const USAGE: &str = "window_bench --app PATH --cli PATH [--jobs 0,10000] [--runs 5] [--cold 3] [--idle 5]
  [--settle 3] [--poll-ms 20] [--scroll-passes 3] [--intake-files 5000] [--intake-runs 3]
  [--work DIR] [--tauri-driver PATH] [--markdown FILE] [--every-picture 1]";

struct Options {
    app: PathBuf,
    cli: PathBuf,
    jobs: Vec<usize>,
    runs: usize,
    cold: usize,
    idle: Duration,
    settle: Duration,
    poll: Duration,
    scroll_passes: usize,
    intake_files: usize,
    intake_runs: usize,
    work: PathBuf,
    tauri_driver: PathBuf,
    markdown: Option<PathBuf>,
    /// Also keep every distinct picture of each launch, named by when it was seen.
    every_picture: bool,
}

impl Options {
    fn parse() -> Options {
        let mut args: HashMap<String, String> = HashMap::new();
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "--help" || flag == "-h" || !flag.starts_with("--") {
                eprintln!("usage: {USAGE}");
                std::process::exit(if flag.starts_with("--") || flag == "-h" { 0 } else { 2 });
            }
            let value = it.next().unwrap_or_else(|| fail(&format!("{flag} needs a value\nusage: {USAGE}")));
            args.insert(flag.trim_start_matches("--").to_owned(), value);
        }
        let path = |name: &str| args.get(name).map(PathBuf::from);
        let number = |name: &str, default: usize| {
            args.get(name).map_or(default, |v| v.parse().unwrap_or_else(|_| fail(&format!("--{name}: not a number"))))
        };
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
        Options {
            app: path("app").unwrap_or_else(|| fail(&format!("--app is required\nusage: {USAGE}"))),
            cli: path("cli").unwrap_or_else(|| fail(&format!("--cli is required\nusage: {USAGE}"))),
            jobs: args.get("jobs").map_or("0,10000", String::as_str).split(',').map(|n| n.parse().unwrap()).collect(),
            runs: number("runs", 5),
            cold: number("cold", 3),
            idle: Duration::from_secs(number("idle", 5) as u64),
            settle: Duration::from_secs(number("settle", 3) as u64),
            poll: Duration::from_millis(number("poll-ms", 20) as u64),
            scroll_passes: number("scroll-passes", 3),
            intake_files: number("intake-files", 5000),
            intake_runs: number("intake-runs", 3),
            work: path("work").unwrap_or_else(|| PathBuf::from("/var/tmp/streamdrop-bench/window")),
            tauri_driver: path("tauri-driver").unwrap_or_else(|| cargo_home.join("bin/tauri-driver")),
            markdown: path("markdown"),
            every_picture: number("every-picture", 0) == 1,
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("window_bench: {message}");
    std::process::exit(2)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn percentile(values: &[f64], p: usize) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get((v.len() * p / 100).min(v.len().saturating_sub(1))).copied().unwrap_or(f64::NAN)
}

// ---- processes -------------------------------------------------------------

/// `pid` and every process below it (WebKit's web and network processes, and
/// anything they start, e.g. through bubblewrap), from each process's parent in /proc.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        // The name may hold spaces and parentheses: the fields start after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else { continue };
        if let Some(parent) = rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok()) {
            children.entry(parent).or_default().push(child);
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        tree.extend(children.get(&tree[i]).cloned().unwrap_or_default());
        i += 1;
    }
    tree
}

/// One process's memory: proportional set size (shared pages divided among
/// the processes that map them) and resident set size, in KiB.
#[derive(Clone, Debug)]
struct ProcessMemory {
    pid: u32,
    name: String,
    pss_kib: u64,
    rss_kib: u64,
}

fn memory_of_tree(pid: u32) -> Vec<ProcessMemory> {
    process_tree(pid)
        .into_iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let field = |name: &str| {
                rollup
                    .lines()
                    .find(|l| l.starts_with(name))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned();
            Some(ProcessMemory { pid, name, pss_kib: field("Pss:"), rss_kib: field("Rss:") })
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

fn kill(signal: &str, pid: u32) {
    let _ = Command::new("kill").arg(signal).arg(pid.to_string()).stderr(Stdio::null()).status();
}

/// Closes the app as a person does (the window's close button), then makes
/// sure it and every process it had are gone, by PID.
fn stop_app(child: &mut Child, tree: &[u32]) {
    let pid = child.id();
    let _ = request_close(pid);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().ok().flatten().is_none() {
        eprintln!("  the app did not close its window in 10 s: SIGTERM");
        kill("-TERM", pid);
        std::thread::sleep(Duration::from_secs(3));
        let _ = child.kill();
        let _ = child.wait();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && tree.iter().any(|p| alive(*p)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for p in tree.iter().filter(|p| alive(**p)) {
        eprintln!("  process {p} outlived the app: SIGKILL");
        kill("-KILL", *p);
    }
}

// ---- cold start --------------------------------------------------------------

/// One launch of the app on a data dir, timed from spawn.
#[derive(Debug)]
struct Launch {
    cache: &'static str,
    /// The window is mapped and its pixels can be read.
    shown_ms: f64,
    /// The last change of the window's pixels before they stayed the same for `settle`.
    painted_ms: f64,
    settled: bool,
    /// Distinct pictures the window showed, the first included.
    pictures: usize,
    grabs: usize,
    grab_ms_median: f64,
    /// When each distinct picture was first seen.
    changes_ms: Vec<f64>,
    memory: Vec<ProcessMemory>,
}

fn drop_page_cache() -> bool {
    let _ = Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

/// The right edge of the window left out of the comparison: WebKitGTK's
/// overlay scrollbar shows there when the page grows and fades out over the
/// next seconds, which is not the list being painted.
const SCROLLBAR_PX: usize = 16;

/// Whether two pictures of the window differ, outside the scrollbar's strip.
fn differs(a: &Picture, b: &Picture) -> bool {
    if (a.width, a.height) != (b.width, b.height) {
        return true;
    }
    let row = usize::from(a.width) * 4;
    let compared = usize::from(a.width).saturating_sub(SCROLLBAR_PX) * 4;
    a.pixels.chunks_exact(row).zip(b.pixels.chunks_exact(row)).any(|(x, y)| x[..compared] != y[..compared])
}

/// What the window showed when it was taken as painted, next to the run's log, to look at.
fn save_png(picture: &Picture, path: &Path) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("the picture's file"));
    let mut encoder = png::Encoder::new(file, u32::from(picture.width), u32::from(picture.height));
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(&picture.rgb()).expect("PNG data");
}

fn launch(opts: &Options, data: &Path, cache: &'static str, log_path: &Path) -> Launch {
    let screen = Screen::open().unwrap_or_else(|e| fail(&e));
    let log = std::fs::File::create(log_path).expect("the app's log");
    let mut command = Command::new(&opts.app);
    command
        .env("STREAMDROP_DATA_DIR", data)
        .env("NO_AT_BRIDGE", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    let start = Instant::now();
    let mut child = command.spawn().unwrap_or_else(|e| fail(&format!("cannot start {}: {e}", opts.app.display())));
    let pid = child.id();
    let timeout = Duration::from_secs(90);
    let (mut window, mut shown, mut last_picture) = (None, None, None::<Picture>);
    let (mut last_change, mut changes, mut grab_times, mut settled) = (Duration::ZERO, Vec::new(), Vec::new(), false);
    while start.elapsed() < timeout {
        if let Ok(Some(status)) = child.try_wait() {
            fail(&format!("the app exited during start ({status}); see its log"));
        }
        if window.is_none() {
            window = screen.window_of(pid).unwrap_or_else(|e| fail(&e));
        }
        if let Some(w) = window {
            let at = start.elapsed();
            let grabbed = Instant::now();
            if let Some(picture) = screen.grab(w) {
                grab_times.push(ms(grabbed.elapsed()));
                shown.get_or_insert(at);
                if last_picture.as_ref().is_none_or(|last| differs(last, &picture)) {
                    changes.push(ms(at));
                    last_change = at;
                    if opts.every_picture {
                        save_png(&picture, &log_path.with_extension(format!("{:05.0}ms.png", ms(at))));
                    }
                    last_picture = Some(picture);
                } else if at - last_change >= opts.settle {
                    settled = true;
                    break;
                }
            }
        }
        std::thread::sleep(opts.poll);
    }
    let painted = last_change;
    // Idle: `idle` after the last change (the settle time counts towards it).
    let idle_until = start + painted + opts.idle;
    if let Some(wait) = idle_until.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
    let memory = memory_of_tree(pid);
    let tree: Vec<u32> = memory.iter().map(|m| m.pid).collect();
    stop_app(&mut child, &tree);
    if let Some(picture) = last_picture {
        save_png(&picture, &log_path.with_extension("png"));
    }
    Launch {
        cache,
        shown_ms: shown.map_or(f64::NAN, ms),
        painted_ms: ms(painted),
        settled,
        pictures: changes.len(),
        changes_ms: changes,
        grabs: grab_times.len(),
        grab_ms_median: median(&grab_times),
        memory,
    }
}

fn launch_json(l: &Launch) -> Value {
    json!({
        "cache": l.cache, "shown_ms": l.shown_ms, "painted_ms": l.painted_ms, "settled": l.settled,
        "pictures": l.pictures, "changes_ms": l.changes_ms, "grabs": l.grabs, "grab_ms_median": l.grab_ms_median,
        "pss_kib": l.memory.iter().map(|m| m.pss_kib).sum::<u64>(),
        "processes": l.memory.iter().map(|m| json!({"pid": m.pid, "name": m.name, "pss_kib": m.pss_kib, "rss_kib": m.rss_kib})).collect::<Vec<_>>(),
    })
}

// ---- scrolling -------------------------------------------------------------

/// Frame times of one pass down the list and back, and the rows drawn after it.
struct ScrollPass {
    frames: Vec<f64>,
    rows_after: u64,
    elements_after: u64,
}

/// The rows and all the elements in the page.
const PAGE_SIZE: &str = r#"return {
  rows: document.querySelectorAll('[data-testid="job-row"]').length,
  elements: document.getElementsByTagName('*').length,
};"#;

struct Scroll {
    passes: Vec<ScrollPass>,
    memory_after: Vec<ProcessMemory>,
}

/// The app started by tauri-driver (the same release binary, with WebKit's
/// automation turned on), its list loaded, scrolled `passes` times.
async fn scroll(opts: &Options, data: &Path) -> Result<Scroll, String> {
    let port = free_port();
    let mut command = Command::new(&opts.tauri_driver);
    command
        .args(["--port", &port.to_string(), "--native-port", &free_port().to_string()])
        .env("STREAMDROP_DATA_DIR", data)
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _driver = ChildGuard::spawn("tauri-driver", &mut command);
    if !wait_for_port(port, Duration::from_secs(20)) {
        return Err(format!("tauri-driver did not listen on {port}"));
    }
    let mut caps = serde_json::Map::new();
    caps.insert("tauri:options".into(), json!({ "application": opts.app }));
    let client: Client = ClientBuilder::rustls()
        .map_err(|e| e.to_string())?
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(|e| format!("WebDriver session: {e}"))?;
    let result = scroll_in(opts, &client, data).await;
    let _ = client.close().await;
    result
}

async fn scroll_in(opts: &Options, client: &Client, data: &Path) -> Result<Scroll, String> {
    let listed = r#"return document.querySelectorAll('[data-testid="job-row"]').length > 0
                     || !!document.querySelector('[data-testid="jobs-empty"]');"#;
    let deadline = Instant::now() + Duration::from_secs(90);
    while client.execute(listed, vec![]).await.map_err(|e| e.to_string())? != json!(true) {
        if Instant::now() > deadline {
            return Err("the list never loaded".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(opts.settle).await;
    let mut passes = Vec::new();
    for _ in 0..opts.scroll_passes {
        let times = client.execute_async(SCROLL_FRAMES, vec![]).await.map_err(|e| e.to_string())?;
        // The first entry is the wait for the first frame, not a frame.
        let frames = times.as_array().map(|a| a.iter().skip(1).filter_map(Value::as_f64).collect()).unwrap_or_default();
        let page = client.execute(PAGE_SIZE, vec![]).await.map_err(|e| e.to_string())?;
        passes.push(ScrollPass {
            frames,
            rows_after: page["rows"].as_u64().unwrap_or(0),
            elements_after: page["elements"].as_u64().unwrap_or(0),
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(opts.idle).await;
    let pid = app_pid(&opts.app, data).ok_or("the app's process was not found")?;
    Ok(Scroll { passes, memory_after: memory_of_tree(pid) })
}

// ---- intake ----------------------------------------------------------------

struct Intake {
    files: usize,
    clips: usize,
    seconds: Vec<f64>,
    peak_rss_kib: Vec<u64>,
    accepted: u64,
}

/// `streamdrop submit FOLDER --json` on a folder of `files` other files and 2
/// clips, each run into a fresh data dir; wall time and peak RSS from GNU time.
fn intake(opts: &Options) -> Intake {
    let root = opts.work.join("intake");
    let folder = root.join(format!("folder-{}", opts.intake_files));
    if !folder.join("DONE").exists() {
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(folder.join("clips")).unwrap();
        for i in 0..opts.intake_files {
            let sub = folder.join(format!("docs/{:03}", i / 500));
            std::fs::create_dir_all(&sub).unwrap();
            std::fs::write(sub.join(format!("NOTE{i:05}.TXT")), format!("note {i}\n")).unwrap();
        }
        make_clip_sized(&folder.join("clips"), "C0001.MP4", "320x180", 1);
        make_clip_sized(&folder.join("clips"), "C0002.MP4", "320x180", 1);
    }
    std::fs::write(folder.join("DONE"), "").unwrap();
    let (mut seconds, mut peak_rss_kib, mut accepted) = (Vec::new(), Vec::new(), 0);
    for run in 0..opts.intake_runs {
        let data = root.join(format!("data-{run}"));
        let _ = std::fs::remove_dir_all(&data);
        let timing = root.join("time.txt");
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%e %M", "-o"])
            .arg(&timing)
            .arg(&opts.cli)
            .arg("submit")
            .arg(&folder)
            .arg("--json")
            .env("STREAMDROP_DATA_DIR", &data)
            .stderr(Stdio::null())
            .output()
            .unwrap_or_else(|e| fail(&format!("/usr/bin/time (GNU time): {e}")));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        accepted = report.get("accepted").and_then(Value::as_array).map_or(0, |a| a.len() as u64);
        let t = std::fs::read_to_string(&timing).unwrap_or_default();
        // GNU time adds a line before them when the command exits non-zero (rejections do).
        let mut fields = t.lines().last().unwrap_or_default().split_whitespace();
        seconds.push(fields.next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN));
        peak_rss_kib.push(fields.next().and_then(|v| v.parse().ok()).unwrap_or(0));
        let _ = std::fs::remove_dir_all(&data);
        eprintln!(
            "  intake run {run}: {:.2} s, {} MiB peak RSS, {accepted} accepted",
            seconds[run],
            peak_rss_kib[run] / 1024
        );
    }
    Intake { files: opts.intake_files, clips: 2, seconds, peak_rss_kib, accepted }
}

// ---- report ----------------------------------------------------------------

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn grouped_memory(memory: &[ProcessMemory]) -> String {
    let mut by_name: Vec<(String, u64, usize)> = Vec::new();
    for m in memory {
        match by_name.iter_mut().find(|(n, _, _)| *n == m.name) {
            Some(entry) => {
                entry.1 += m.pss_kib;
                entry.2 += 1;
            }
            None => by_name.push((m.name.clone(), m.pss_kib, 1)),
        }
    }
    by_name
        .iter()
        .map(
            |(n, kib, count)| {
                if *count > 1 {
                    format!("{n} ×{count} {:.0}", mib(*kib))
                } else {
                    format!("{n} {:.0}", mib(*kib))
                }
            },
        )
        .collect::<Vec<_>>()
        .join(", ")
}

fn total_pss(memory: &[ProcessMemory]) -> u64 {
    memory.iter().map(|m| m.pss_kib).sum()
}

fn list(values: impl IntoIterator<Item = f64>, digits: usize) -> String {
    values.into_iter().map(|v| format!("{v:.digits$}")).collect::<Vec<_>>().join(", ")
}

fn markdown(
    opts: &Options,
    launches: &[(usize, Vec<Launch>)],
    scrolls: &[(usize, Result<Scroll, String>)],
    intake: Option<&Intake>,
) -> String {
    let mut md = String::new();
    let line = |md: &mut String, s: String| {
        md.push_str(&s);
        md.push('\n');
    };
    line(&mut md, "| jobs in the store | page cache | runs | window shown, median ms | painted list, median ms (each run) | PSS of all the app's processes, median MiB (each run) | processes |".into());
    line(&mut md, "|---:|---|---:|---:|---|---|---:|".into());
    for (jobs, runs) in launches {
        for cache in ["warm", "cold"] {
            let these: Vec<&Launch> = runs.iter().filter(|l| l.cache == cache).collect();
            if these.is_empty() {
                continue;
            }
            let painted: Vec<f64> = these.iter().map(|l| l.painted_ms).collect();
            let shown: Vec<f64> = these.iter().map(|l| l.shown_ms).collect();
            let pss: Vec<f64> = these.iter().map(|l| mib(total_pss(&l.memory))).collect();
            let unsettled = these.iter().filter(|l| !l.settled).count();
            let note = if unsettled > 0 { format!(" ({unsettled} never settled)") } else { String::new() };
            line(
                &mut md,
                format!(
                    "| {jobs} | {cache} | {} | {:.0} | **{:.0}** ({}){note} | **{:.0}** ({}) | {} |",
                    these.len(),
                    median(&shown),
                    median(&painted),
                    list(painted.iter().copied(), 0),
                    median(&pss),
                    list(pss.iter().copied(), 0),
                    these[0].memory.len(),
                ),
            );
        }
    }
    line(&mut md, String::new());
    line(&mut md, "Where the memory goes (PSS in MiB, the warm run with the median total):".into());
    line(&mut md, String::new());
    for (jobs, runs) in launches {
        let mut warm: Vec<&Launch> = runs.iter().filter(|l| l.cache == "warm").collect();
        warm.sort_by_key(|l| total_pss(&l.memory));
        if let Some(l) = warm.get(warm.len() / 2) {
            line(
                &mut md,
                format!("- {jobs} jobs: {} (total {:.0})", grouped_memory(&l.memory), mib(total_pss(&l.memory))),
            );
        }
    }
    line(&mut md, String::new());
    line(&mut md, "| jobs in the store | scroll pass | frames | median ms | 95th percentile ms | longest ms | rows / elements in the page after |".into());
    line(&mut md, "|---:|---:|---:|---:|---:|---:|---:|".into());
    for (jobs, scroll) in scrolls {
        match scroll {
            Ok(s) => {
                for (i, p) in s.passes.iter().enumerate() {
                    line(
                        &mut md,
                        format!(
                            "| {jobs} | {} | {} | {:.1} | {:.1} | {:.0} | {} / {} |",
                            i + 1,
                            p.frames.len(),
                            median(&p.frames),
                            percentile(&p.frames, 95),
                            p.frames.iter().copied().fold(0.0, f64::max),
                            p.rows_after,
                            p.elements_after
                        ),
                    );
                }
            }
            Err(e) => line(&mut md, format!("| {jobs} | – | failed: {e} | | | | |")),
        }
    }
    line(&mut md, String::new());
    for (jobs, scroll) in scrolls {
        if let Ok(s) = scroll {
            line(
                &mut md,
                format!(
                    "- {jobs} jobs, {}s after scrolling (app started by tauri-driver): PSS {:.0} MiB ({})",
                    opts.idle.as_secs(),
                    mib(total_pss(&s.memory_after)),
                    grouped_memory(&s.memory_after)
                ),
            );
        }
    }
    if let Some(i) = intake {
        line(&mut md, String::new());
        line(
            &mut md,
            format!(
                "Intake of a folder of {} other files and {} clips (`streamdrop submit FOLDER --json`, release, fresh data dir each run, page cache warm): median **{:.2} s** ({} s), peak RSS median {:.0} MiB ({} MiB); {} jobs accepted.",
                i.files,
                i.clips,
                median(&i.seconds),
                list(i.seconds.iter().copied(), 2),
                median(&i.peak_rss_kib.iter().map(|k| mib(*k)).collect::<Vec<_>>()),
                list(i.peak_rss_kib.iter().map(|k| mib(*k)), 0),
                i.accepted,
            ),
        );
    }
    md
}

#[tokio::main]
async fn main() {
    let opts = Options::parse();
    if !opts.app.is_file() {
        fail(&format!("{} is not built", opts.app.display()));
    }
    std::fs::create_dir_all(&opts.work).unwrap();
    let root = std::fs::canonicalize(&opts.work).unwrap();
    let mut launches = Vec::new();
    let mut scrolls = Vec::new();
    let mut runs_json = Vec::new();
    for &jobs in &opts.jobs {
        let dir = root.join(format!("jobs-{jobs}"));
        let _ = std::fs::remove_dir_all(&dir);
        let (data, card) = (dir.join("data"), dir.join("card"));
        for d in [&data, &card] {
            std::fs::create_dir_all(d).unwrap();
        }
        if jobs > 0 {
            let per_drop = jobs.min(100);
            if jobs % per_drop != 0 {
                fail("--jobs: counts over 100 must be multiples of 100 (one drop per 100 clips)");
            }
            eprintln!("seeding {jobs} ready jobs");
            streamdrop_e2e::seed::ready_jobs(&data, &card, jobs / per_drop, per_drop).await;
        }
        // The first launch makes what a first start makes (the local signing
        // key, WebKit's caches) and warms the page cache; it is not counted.
        eprintln!("{jobs} jobs: first launch (not counted)");
        launch(&opts, &data, "warm", &dir.join("app-first.log"));
        let mut these = Vec::new();
        for run in 0..opts.runs + opts.cold {
            let cache = if run < opts.runs {
                "warm"
            } else if drop_page_cache() {
                "cold"
            } else {
                eprintln!("  cannot drop the page cache (not root?): no cold runs");
                break;
            };
            let l = launch(&opts, &data, cache, &dir.join(format!("app-{run}.log")));
            eprintln!(
                "  {jobs} jobs, {cache}: shown {:.0} ms, painted {:.0} ms{}, {} pictures in {} grabs ({:.1} ms each), PSS {:.0} MiB over {} processes",
                l.shown_ms,
                l.painted_ms,
                if l.settled { "" } else { " (NEVER SETTLED)" },
                l.pictures,
                l.grabs,
                l.grab_ms_median,
                mib(total_pss(&l.memory)),
                l.memory.len()
            );
            runs_json.push(json!({"jobs": jobs, "run": launch_json(&l)}));
            these.push(l);
        }
        launches.push((jobs, these));
        if opts.scroll_passes == 0 {
            continue;
        }
        eprintln!("{jobs} jobs: scrolling through WebDriver");
        let s = scroll(&opts, &data).await;
        match &s {
            Ok(s) => {
                for p in &s.passes {
                    eprintln!(
                        "  pass: {} frames, median {:.1} ms, p95 {:.1} ms, longest {:.0} ms, {} rows after",
                        p.frames.len(),
                        median(&p.frames),
                        percentile(&p.frames, 95),
                        p.frames.iter().copied().fold(0.0, f64::max),
                        p.rows_after
                    );
                }
                runs_json.push(json!({"jobs": jobs, "scroll": s.passes.iter().map(|p| json!({"frames_ms": p.frames, "rows_after": p.rows_after, "elements_after": p.elements_after})).collect::<Vec<_>>()}));
            }
            Err(e) => eprintln!("  scrolling failed: {e}"),
        }
        scrolls.push((jobs, s));
    }
    let intake = (opts.intake_runs > 0).then(|| {
        eprintln!("intake of {} files + 2 clips", opts.intake_files);
        intake(&opts)
    });
    std::fs::write(root.join("runs.json"), serde_json::to_vec_pretty(&runs_json).unwrap()).unwrap();
    let md = markdown(&opts, &launches, &scrolls, intake.as_ref());
    match &opts.markdown {
        Some(path) => std::fs::write(path, &md).unwrap(),
        None => print!("{md}"),
    }
}
