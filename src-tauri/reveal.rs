//! Showing a file in the desktop's file manager (the log, from a failed job's
//! Details). Only a path from the shell's own data dir is ever shown: the
//! webview cannot name one.

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

/// Opens the file manager on `file`'s folder (with `file` selected where the platform can).
pub fn in_file_manager(file: &Path) -> io::Result<()> {
    let mut command = opener(file)?;
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    // Reaped in the background: the opener may outlive the click by a while.
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(target_os = "linux")]
fn opener(file: &Path) -> io::Result<Command> {
    // xdg-open cannot select a file; its folder is the nearest every desktop supports.
    let folder = file.parent().ok_or_else(|| io::Error::other("the log file has no folder"))?;
    let mut command = Command::new("xdg-open");
    command.arg(folder);
    Ok(command)
}

#[cfg(target_os = "macos")]
fn opener(file: &Path) -> io::Result<Command> {
    let mut command = Command::new("open");
    command.arg("-R").arg(file);
    Ok(command)
}

#[cfg(target_os = "windows")]
fn opener(file: &Path) -> io::Result<Command> {
    let mut select = std::ffi::OsString::from("/select,");
    select.push(file);
    let mut command = Command::new("explorer");
    command.arg(select);
    Ok(command)
}
