//! `streamdrop link JOB_ID`: a playable signed link to a ready job, on the
//! job's connection: through CloudFront, or (Local) the local edge that
//! `streamdrop serve` or the app runs.

use std::path::PathBuf;
use std::process::ExitCode;

use streamdrop_core::model::LinkKind;
use streamdrop_core::stack::AwsStackOptions;
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::store::Store;
use streamdrop_core::{DataDir, JobId, Stack};

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
    anyhow::ensure!(args.kind != LinkKind::Preview, "preview links are made by the app's player");
    let data_dir = DataDir::resolve(data_dir)?;
    // The edge belongs to the running app or `streamdrop serve`; this command only writes and signs.
    let local = LocalStackOptions { serve_edge: false, ..LocalStackOptions::with_os_keychain() };
    let job = Store::open(&data_dir.store_file())?
        .get(args.job_id)?
        .ok_or_else(|| anyhow::anyhow!("no job with id {}", args.job_id))?;
    let stack = Stack::open_named(&data_dir, &job.connection, local, AwsStackOptions::with_os_keychain()).await?;
    let result = match stack.linker(&data_dir).await {
        Ok(linker) => linker.link_job(args.job_id, args.kind, args.expires_in).await,
        Err(err) => Err(err),
    };
    let local = matches!(stack, Stack::Local(_));
    stack.shutdown().await;
    println!("{}", result?.url);
    if local {
        eprintln!("{LOCAL_LINKS_NOTE}");
    }
    Ok(ExitCode::SUCCESS)
}
