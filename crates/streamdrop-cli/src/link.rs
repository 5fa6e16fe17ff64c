//! `streamdrop link JOB_ID`: a playable signed link to a ready job, on the
//! job's connection: through CloudFront, or (Local) the local edge that
//! `streamdrop serve` or the app runs.

use std::path::PathBuf;
use std::process::ExitCode;

use streamdrop_core::api::{Session, SessionOptions};
use streamdrop_core::control::{Reply, Request};
use streamdrop_core::model::LinkKind;
use streamdrop_core::{DataDir, JobId};

use crate::output::json_line;
use crate::running;
use crate::units::parse_duration;

/// Said on stderr with every local link, so it never mixes with the link on stdout.
pub const LOCAL_LINKS_NOTE: &str = "note: this link plays only on this computer, and only while the Streamdrop app or \
`streamdrop serve` runs. To send links to other people, add an AWS connection (`streamdrop connection add`).";

/// Said on stderr with a link made while the connection's distribution deploys.
pub const DEPLOYING_NOTE: &str = "note: CloudFront is still deploying this connection's distribution: the link starts \
to work once it has, usually within 15 minutes (`streamdrop setup --apply --wait-for-deployment` waits for it).";

#[derive(Debug, clap::Args)]
pub struct Args {
    job_id: JobId,
    /// How long the link works, e.g. 1h, 1d, 7d, 90m (default: the preferences' link lifetime, at first 1d)
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    expires_in: Option<u64>,
    /// What the link opens: stream (the HLS master playlist), poster or original
    #[arg(long, default_value = "stream")]
    kind: LinkKind,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    // The running engine signs with the key its edge checks (keychain or not).
    let session = Session::open(data_dir.clone(), SessionOptions::with_os_keychain())?;
    let lifetime_secs = match args.expires_in {
        Some(secs) => secs,
        None => session.preferences()?.link_lifetime_secs,
    };
    let request = Request::Link { id: args.job_id, kind: args.kind, lifetime_secs };
    let link = match running::ask(&data_dir, request, running::ANSWER_TIMEOUT).await? {
        Some(Reply::Link { link }) => *link,
        Some(other) => return Err(running::unexpected(other)),
        None => session.link(args.job_id, args.kind, lifetime_secs).await?,
    };
    println!("{}", link.url);
    if link.deploying {
        eprintln!("{DEPLOYING_NOTE}");
    }
    if session.job(args.job_id)?.connection.is_local() {
        eprintln!("{LOCAL_LINKS_NOTE}");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    job_id: JobId,
    /// Print the links as one JSON array: id, kind, url, expiresAt, createdAt, revokedAt (Unix ms)
    #[arg(long)]
    json: bool,
}

/// `streamdrop links JOB_ID`: the links people made to a job, newest first.
pub async fn list(data_dir: Option<PathBuf>, args: ListArgs) -> anyhow::Result<ExitCode> {
    let session = Session::open(DataDir::resolve(data_dir)?, SessionOptions::with_os_keychain())?;
    let links = session.links(args.job_id)?;
    if args.json {
        json_line(&links);
    } else if links.is_empty() {
        println!("no links yet: make one with `streamdrop link {}`", args.job_id);
    } else {
        let now = streamdrop_core::clock::now_ms();
        for link in &links {
            let state = match link.revoked_at {
                Some(_) => "revoked",
                None if link.expires_at <= now => "expired",
                None => "active",
            };
            println!("{}\t{}\t{state}\t{}", link.id, link.kind, link.url);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The link's id, as `streamdrop links JOB_ID` lists it
    link_id: String,
}

/// `streamdrop revoke LINK_ID`: the link opens nothing from now on.
pub async fn revoke(data_dir: Option<PathBuf>, args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    let request = Request::Revoke { link: args.link_id.clone() };
    let link = match running::ask(&data_dir, request, running::ANSWER_TIMEOUT).await? {
        Some(Reply::Link { link }) => *link,
        Some(other) => return Err(running::unexpected(other)),
        None => Session::open(data_dir, SessionOptions::with_os_keychain())?.revoke_link(&args.link_id).await?,
    };
    println!("{}\trevoked", link.id);
    Ok(ExitCode::SUCCESS)
}
