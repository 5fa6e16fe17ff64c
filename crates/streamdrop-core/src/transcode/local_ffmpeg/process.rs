//! ffmpeg as a child process: progress read from `-progress`, a stall
//! watch, the last lines of its log kept for messages; and stopping the runs
//! a killed Streamdrop left behind.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::Instant;

use super::{codes, Failure, Inner};
use crate::transcode::probe::{clean_ffmpeg_log, media_tool};

/// Stops ffmpeg runs that a Streamdrop killed outright (SIGKILL, a crash)
/// left behind: ffmpeg processes working in a job folder under `work_root`.
/// Call it only while holding the data dir's engine lock: then no live engine
/// owns them. Returns how many were stopped.
#[cfg(target_os = "linux")]
pub fn stop_orphans(work_root: &Path) -> usize {
    let work_root = work_root.canonicalize().unwrap_or_else(|_| work_root.to_owned());
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    let pids = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<libc::pid_t>().ok());
    let orphans = pids.filter(|pid| {
        let is_ffmpeg =
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|name| name.trim_end() == "ffmpeg");
        is_ffmpeg && std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(&work_root))
    });
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    orphans.filter(|&pid| unsafe { libc::kill(pid, libc::SIGKILL) } == 0).count()
}

#[cfg(not(target_os = "linux"))]
pub fn stop_orphans(_work_root: &Path) -> usize {
    0
}

pub(super) struct FfmpegRun {
    /// How far into the source ffmpeg got, from `-progress`.
    pub(super) out_time: Option<f64>,
    /// The last lines of its log (at `-loglevel error`).
    pub(super) log: String,
}

pub(super) enum RunError {
    NotFound,
    Spawn(std::io::Error),
    Stalled { after: Duration, log: String },
    Failed { status: std::process::ExitStatus, log: String },
}

impl RunError {
    pub(super) fn into_failure(self, input_arg: &str, shown: &str) -> Failure {
        match self {
            RunError::NotFound => Failure::new(codes::FFMPEG_MISSING, "ffmpeg not found: install ffmpeg"),
            RunError::Spawn(err) => Failure::new(codes::FFMPEG_FAILED, format!("cannot run ffmpeg: {err}")),
            RunError::Stalled { after, log } => {
                let log = clean_ffmpeg_log(&log, input_arg, shown, 3);
                let mut message =
                    format!("ffmpeg made no progress on {shown} for {} s and was stopped", after.as_secs());
                if !log.is_empty() {
                    message.push_str(&format!(" ({log})"));
                }
                Failure::new(codes::STALLED, message)
            }
            RunError::Failed { status, log } => {
                // The message starts with the file's name; the log lines need not repeat it.
                let log = clean_ffmpeg_log(&log, input_arg, shown, 3).replace(&format!("{shown}: "), "");
                let message = if log.is_empty() {
                    format!("ffmpeg could not transcode {shown} ({status})")
                } else {
                    format!("ffmpeg could not transcode {shown}: {log}")
                };
                Failure::new(codes::FFMPEG_FAILED, message)
            }
        }
    }
}

/// Lines of ffmpeg's log kept for error messages.
const LOG_LINES: usize = 40;

/// Runs ffmpeg in `cwd` with `-progress pipe:1`, calling `on_progress` with
/// the seconds of output written, and kills it after `stall_timeout` without progress.
pub(super) async fn run_ffmpeg(
    inner: &Inner,
    cwd: &Path,
    args: &[String],
    mut on_progress: impl FnMut(f64),
) -> Result<FfmpegRun, RunError> {
    let mut command = media_tool(&inner.ffmpeg);
    command
        .args(["-progress", "pipe:1", "-nostats"])
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound,
        _ => RunError::Spawn(err),
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let log_task = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        let mut kept = VecDeque::with_capacity(LOG_LINES);
        while let Ok(Some(line)) = lines.next_line().await {
            if kept.len() == LOG_LINES {
                kept.pop_front();
            }
            kept.push_back(line);
        }
        Vec::from(kept).join("\n")
    });

    let stall = inner.stall_timeout;
    let mut lines = BufReader::new(stdout).lines();
    let mut last_change = Instant::now();
    let mut out_time: Option<f64> = None;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut stalled = false;
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    let Some((key, value)) = line.split_once('=') else { continue };
                    if !matches!(key, "out_time_us" | "frame" | "total_size") {
                        continue;
                    }
                    if seen.get(key).map(String::as_str) != Some(value) {
                        seen.insert(key.to_owned(), value.to_owned());
                        last_change = Instant::now();
                    }
                    if key == "out_time_us" {
                        if let Ok(us) = value.trim().parse::<i64>() {
                            let seconds = us.max(0) as f64 / 1e6;
                            out_time = Some(out_time.map_or(seconds, |t: f64| t.max(seconds)));
                            on_progress(seconds);
                        }
                    }
                }
                // stdout closed: ffmpeg is exiting.
                Ok(None) | Err(_) => break,
            },
            _ = tokio::time::sleep_until(last_change + stall) => {
                stalled = true;
                break;
            }
        }
    }
    let status = if stalled {
        None
    } else {
        match tokio::time::timeout(stall, child.wait()).await {
            Ok(Ok(status)) => Some(status),
            Ok(Err(err)) => return Err(RunError::Spawn(err)),
            Err(_) => None,
        }
    };
    let Some(status) = status else {
        let _ = child.start_kill();
        let _ = child.wait().await;
        let log = log_task.await.unwrap_or_default();
        return Err(RunError::Stalled { after: stall, log });
    };
    let log = log_task.await.unwrap_or_default();
    if status.success() {
        Ok(FfmpegRun { out_time, log })
    } else {
        Err(RunError::Failed { status, log })
    }
}
