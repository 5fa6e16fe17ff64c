//! The app's window as the desktop sees it, for the real-window suite and the
//! window benchmark: which process runs a data dir, closing its window the way
//! a window manager does (Xvfb runs none), and what the window shows.

use std::path::Path;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ClientMessageEvent, ConnectionExt, EventMask, ImageFormat, Window};
use x11rb::wrapper::ConnectionExt as _;

/// The PID of the running `binary` whose environment or arguments name `data_dir`.
pub fn app_pid(binary: &Path, data_dir: &Path) -> Option<u32> {
    let wanted = data_dir.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc").ok()?.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).find(|pid| {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let mentions = |file: &str| {
            std::fs::read(format!("/proc/{pid}/{file}")).is_ok_and(|b| b.windows(wanted.len()).any(|w| w == wanted))
        };
        exe.as_deref() == Some(binary) && (mentions("environ") || mentions("cmdline"))
    })
}

/// Sends `WM_DELETE_WINDOW` to every shown top-level window of process `pid`:
/// what the window manager does when a person clicks the close button.
pub fn request_close(pid: u32) -> Result<usize, String> {
    let (conn, root) = display()?;
    let (protocols, delete) = (atom(&conn, b"WM_PROTOCOLS")?, atom(&conn, b"WM_DELETE_WINDOW")?);
    let mut sent = 0;
    for window in shown_windows_of(&conn, root, pid)? {
        let speaks_delete = conn
            .get_property(false, window, protocols, AtomEnum::ATOM, 0, 32)
            .map_err(|e| e.to_string())?
            .reply()
            .ok()
            .is_some_and(|p| p.value32().is_some_and(|mut v| v.any(|a| a == delete)));
        if speaks_delete {
            let event = ClientMessageEvent::new(32, window, protocols, [delete, x11rb::CURRENT_TIME, 0, 0, 0]);
            conn.send_event(false, window, EventMask::NO_EVENT, event).map_err(|e| e.to_string())?;
            sent += 1;
        }
    }
    conn.sync().map_err(|e| e.to_string())?;
    Ok(sent)
}

/// The titles (`_NET_WM_NAME`) of the shown top-level windows of process `pid`:
/// what a taskbar shows for it.
pub fn window_titles(pid: u32) -> Result<Vec<String>, String> {
    let (conn, root) = display()?;
    let (net_wm_name, utf8) = (atom(&conn, b"_NET_WM_NAME")?, atom(&conn, b"UTF8_STRING")?);
    let mut titles = Vec::new();
    for window in shown_windows_of(&conn, root, pid)? {
        let name = conn.get_property(false, window, net_wm_name, utf8, 0, 1024).map_err(|e| e.to_string())?.reply();
        if let Some(name) = name.ok().filter(|n| !n.value.is_empty()) {
            titles.push(String::from_utf8_lossy(&name.value).into_owned());
        }
    }
    Ok(titles)
}

/// Frame times (ms) while the page scrolls the list down and back, one step
/// per animation frame: what a person scrolling sees. A script for
/// WebDriver's `execute/async`; the first entry is the wait for the first frame.
pub const SCROLL_FRAMES: &str = r#"
const done = arguments[arguments.length - 1];
const times = [];
let last = performance.now(), step = 0;
function frame(now) {
  times.push(now - last); last = now; step++;
  window.scrollBy(0, step <= 60 ? 400 : -400);
  if (step < 120) requestAnimationFrame(frame); else done(times);
}
requestAnimationFrame(frame);
"#;

/// The X display, read from outside the app: which window a process shows
/// and its pixels as they are on the screen, to time when it is painted.
pub struct Screen {
    conn: x11rb::rust_connection::RustConnection,
    root: Window,
}

impl Screen {
    pub fn open() -> Result<Self, String> {
        let (conn, root) = display()?;
        Ok(Screen { conn, root })
    }

    /// The first shown top-level window of process `pid`, once it has one.
    pub fn window_of(&self, pid: u32) -> Result<Option<Window>, String> {
        Ok(shown_windows_of(&self.conn, self.root, pid)?.into_iter().next())
    }

    /// What `window` shows now (its pixels as drawn on the screen: Xvfb runs
    /// no compositor), or `None` while it cannot be read (e.g. not mapped).
    pub fn grab(&self, window: Window) -> Option<Picture> {
        let geometry = self.conn.get_geometry(window).ok()?.reply().ok()?;
        let image = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, window, 0, 0, geometry.width, geometry.height, !0)
            .ok()?
            .reply()
            .ok()?;
        Some(Picture { width: geometry.width, height: geometry.height, pixels: image.data })
    }
}

/// A window's pixels as the X server holds them: 32 bits a pixel (blue,
/// green, red, unused) at the depth of 24 that Xvfb is started with.
#[derive(Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: u16,
    pub height: u16,
    pub pixels: Vec<u8>,
}

impl Picture {
    /// Red, green, blue for each pixel, row by row (e.g. to write a PNG).
    pub fn rgb(&self) -> Vec<u8> {
        self.pixels.chunks_exact(4).flat_map(|p| [p[2], p[1], p[0]]).collect()
    }
}

fn display() -> Result<(x11rb::rust_connection::RustConnection, Window), String> {
    let (conn, screen) = x11rb::connect(None).map_err(|e| format!("cannot reach the X display: {e}"))?;
    let root = conn.setup().roots[screen].root;
    Ok((conn, root))
}

fn atom(conn: &impl Connection, name: &[u8]) -> Result<u32, String> {
    Ok(conn.intern_atom(false, name).map_err(|e| e.to_string())?.reply().map_err(|e| e.to_string())?.atom)
}

/// The windows of process `pid` that are shown. GTK also keeps an unmapped
/// leader window; a person only sees (and closes) what is shown.
fn shown_windows_of(conn: &impl Connection, root: Window, pid: u32) -> Result<Vec<Window>, String> {
    let net_wm_pid = atom(conn, b"_NET_WM_PID")?;
    let mut shown = Vec::new();
    for window in descendants(conn, root)? {
        let owner = conn
            .get_property(false, window, net_wm_pid, AtomEnum::CARDINAL, 0, 1)
            .map_err(|e| e.to_string())?
            .reply()
            .ok()
            .and_then(|p| p.value32().and_then(|mut v| v.next()));
        let viewable = conn
            .get_window_attributes(window)
            .map_err(|e| e.to_string())?
            .reply()
            .is_ok_and(|a| a.map_state == x11rb::protocol::xproto::MapState::VIEWABLE);
        if owner == Some(pid) && viewable {
            shown.push(window);
        }
    }
    Ok(shown)
}

fn descendants(conn: &impl Connection, window: Window) -> Result<Vec<Window>, String> {
    let tree = conn.query_tree(window).map_err(|e| e.to_string())?.reply().map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    for child in tree.children {
        all.push(child);
        all.extend(descendants(conn, child)?);
    }
    Ok(all)
}
