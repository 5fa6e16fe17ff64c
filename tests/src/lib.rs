//! Shared harness for the end-to-end suites: built binaries, child processes
//! that are always stopped by PID, free loopback ports, and media made with ffmpeg.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub mod cdn_name;
pub mod fault_proxy;
pub mod mediaconvert_model;
pub mod moto;
pub mod notifications;
pub mod seed;
mod standin_work;
pub mod transcoder_standin;
pub mod window;

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A binary built by `cargo build` in this workspace. The suites do not build
/// them; `scripts/test-all.sh` does, so a missing one is a clear failure.
pub fn built_binary(name: &str) -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let path = target.join("debug").join(name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build -p {}` first (scripts/test-all.sh does)",
        path.display(),
        if name == "streamdrop" { "streamdrop-cli" } else { "streamdrop-desktop --features e2e" }
    );
    path
}

/// Where tests leave files for people to look at (screenshots).
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create test-artifacts/");
    dir
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind a free port").port()
}

/// Waits until something accepts connections on `127.0.0.1:port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A child process stopped by its PID when dropped: SIGTERM, then SIGKILL.
/// Spawned as a group leader ([`spawn_group`](Self::spawn_group)), the whole
/// process group it leads is stopped with it.
pub struct ChildGuard {
    child: Child,
    name: String,
    group: bool,
}

impl ChildGuard {
    pub fn spawn(name: &str, command: &mut Command) -> Self {
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self { child, name: name.to_owned(), group: false }
    }

    /// Starts `command` in a process group of its own (for a session runner
    /// such as `dbus-run-session`, whose children outlive it when it is killed).
    pub fn spawn_group(name: &str, command: &mut Command) -> Self {
        use std::os::unix::process::CommandExt;
        let child = command.process_group(0).spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self { child, name: name.to_owned(), group: true }
    }

    /// The PID, or the process group (`-PGID`) for a group leader: what `kill` is given.
    fn target(&self) -> String {
        if self.group {
            format!("-{}", self.pid())
        } else {
            self.pid().to_string()
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Sends SIGTERM and waits up to `timeout` for a clean exit.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill").arg("-TERM").arg("--").arg(self.target()).status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let stopped = self.terminate(Duration::from_secs(5)).is_some();
        if self.group {
            // Whatever the leader left behind in its group goes too.
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg("--")
                .arg(self.target())
                .stderr(std::process::Stdio::null())
                .status();
        }
        if !stopped {
            eprintln!("{} (pid {}) ignored SIGTERM; killing it", self.name, self.pid());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A short 640x360 H.264/AAC clip from ffmpeg's test sources.
pub fn make_clip(dir: &Path, name: &str, seconds: u32) -> PathBuf {
    make_clip_sized(dir, name, "640x360", seconds)
}

/// An H.264/AAC clip of `seconds` at `size` (e.g. `320x180`), from ffmpeg's test sources.
/// Its name is in its metadata, so clips of different names are different
/// content (as a camera's are), not duplicates of each other.
pub fn make_clip_sized(dir: &Path, name: &str, size: &str, seconds: u32) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", &format!("testsrc=size={size}:rate=25:duration={seconds}")])
        .args(["-f", "lavfi", "-i", &format!("sine=frequency=440:duration={seconds}")])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"])
        .args(["-metadata", &format!("title={name}")])
        .arg(&path)
        .status()
        .expect("ffmpeg must be installed (scripts/setup-debian.sh installs it)");
    assert!(status.success(), "ffmpeg could not make {name}");
    path
}

/// A real video of at least `bytes` at `size` (uncompressed 4:2:2 frames, `2vuy`,
/// in a MOV at 25 fps), for tests that need many upload parts: every frame
/// differs, so a misplaced part changes the digest.
pub fn make_large_clip(dir: &Path, name: &str, size: (u32, u32), bytes: u64) -> PathBuf {
    let path = dir.join(name);
    let frame_bytes = u64::from(size.0) * u64::from(size.1) * 2;
    let frames = bytes.div_ceil(frame_bytes) + 1;
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"])
        .args(["-i", &format!("testsrc=size={}x{}:rate=25", size.0, size.1)])
        .args(["-frames:v", &frames.to_string(), "-c:v", "rawvideo", "-pix_fmt", "uyvy422"])
        .arg(&path)
        .status()
        .expect("ffmpeg must be installed (scripts/setup-debian.sh installs it)");
    assert!(status.success(), "ffmpeg could not make {name}");
    assert!(std::fs::metadata(&path).expect("the clip").len() >= bytes);
    path
}

pub fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
