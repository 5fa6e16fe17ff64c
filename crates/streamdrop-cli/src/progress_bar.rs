//! A progress bar on stderr when it is a terminal; nothing otherwise, so
//! scripts and `--json` consumers get clean output.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use streamdrop_core::model::Progress;

pub fn for_transfer(total: u64, label: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:32}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_owned());
    Some(bar)
}

/// Feeds engine progress into the bar; our own smoothed numbers are what the bar shows.
pub fn update(bar: &Option<ProgressBar>, progress: Progress) {
    if let Some(bar) = bar {
        bar.set_position(progress.bytes_done);
    }
}
