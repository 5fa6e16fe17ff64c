//! `streamdrop link JOB_ID`: a playable signed link to a ready job, on the
//! job's connection: through CloudFront, or (Local) the local edge that
//! `streamdrop serve` or the app runs.

use std::path::PathBuf;
use std::process::ExitCode;

use streamdrop_core::api::{Session, SessionOptions};
use streamdrop_core::control::{Reply, Request};
use streamdrop_core::model::LinkKind;
use streamdrop_core::{DataDir, JobId};

use crate::running;
use crate::units::parse_duration;

/// Said on stderr with every local link, so it never mixes with the link on stdout.
pub const LOCAL_LINKS_NOTE: &str = "note: this link plays only on this computer, and only while the Streamdrop app or \
`streamdrop serve` runs. To send links to other people, add an AWS connection (`streamdrop connection add`).";

#[derive(Debug, clap::Args)]
pub struct Args {
    job_id: JobId,
    /// How long the link works, e.g. 1h, 1d, 7d, 90m
    #[arg(long, value_parser = parse_duration, default_value = "1d", value_name = "DURATION")]
    expires_in: u64,
    /// What the link opens: stream (the HLS master playlist), poster or original
    #[arg(long, default_value = "stream")]
    kind: LinkKind,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    // The running engine signs with the key its edge checks (keychain or not).
    let request = Request::Link { id: args.job_id, kind: args.kind, lifetime_secs: args.expires_in };
    let asked = running::ask(&data_dir, request, running::ANSWER_TIMEOUT).await?;
    let session = Session::open(data_dir, SessionOptions::with_os_keychain())?;
    let link = match asked {
        Some(Reply::Link { link }) => *link,
        Some(other) => return Err(running::unexpected(other)),
        None => session.link(args.job_id, args.kind, args.expires_in).await?,
    };
    println!("{}", link.url);
    if session.job(args.job_id)?.connection.is_local() {
        eprintln!("{LOCAL_LINKS_NOTE}");
    }
    Ok(ExitCode::SUCCESS)
}
