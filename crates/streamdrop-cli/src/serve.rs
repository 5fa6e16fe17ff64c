//! `streamdrop serve`: the local stack in the foreground until Ctrl-C or SIGTERM.
//! It also runs the engine, so jobs queued with `streamdrop submit` proceed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use streamdrop_core::api::{Session, SessionOptions};
use streamdrop_core::control::{self, ControlServer, Reply, Request};
use streamdrop_core::local::LocalCredentials;
use streamdrop_core::model::ConnectionName;
use streamdrop_core::stack::local_buckets;
use streamdrop_core::DataDir;

use crate::output::json_line;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port for the S3 endpoint on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Print one JSON line describing the endpoint instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Started<'a> {
    s3_endpoint: &'a str,
    /// Serves the distribution bucket to signed requests, as CloudFront would.
    edge_url: &'a str,
    /// The keys, only when generated for this run: what came from the
    /// environment is the caller's already, and never echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_access_key: Option<&'a str>,
    data_dir: String,
    pid: u32,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    // Clients of this server usually read AWS_* too, so the same pair serves both sides.
    let from_env = match (std::env::var("AWS_ACCESS_KEY_ID"), std::env::var("AWS_SECRET_ACCESS_KEY")) {
        (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => Some(LocalCredentials::new(id, secret)),
        _ => None,
    };
    let generated = from_env.is_none();
    let mut options = SessionOptions::with_os_keychain();
    options.local.bind = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), args.port);
    options.local.credentials = from_env;
    options.hosted = Some(ConnectionName::local());
    // Claimed before anything starts: a second `serve` or the app must not start a second server.
    let claim = data_dir.claim_for_engine()?;
    let session = Session::open_hosting(data_dir.clone(), options, claim.clone())?;
    session.start().await?;
    let _control = ControlServer::start(&data_dir, &claim, Arc::new(ServeControl(session.clone())))
        .map_err(|e| anyhow::anyhow!("cannot open the control channel in {}: {e}", data_dir.path().display()))?;
    let server = session.local_server().ok_or_else(|| anyhow::anyhow!("the local stack did not start"))?;
    let creds = &server.credentials;
    let started = Started {
        s3_endpoint: &server.s3_endpoint,
        edge_url: &server.edge_url,
        access_key_id: generated.then(|| creds.access_key_id()),
        secret_access_key: generated.then(|| creds.secret_access_key()),
        data_dir: data_dir.path().display().to_string(),
        pid: std::process::id(),
    };
    if args.json {
        json_line(&started);
    } else {
        let buckets = local_buckets();
        println!("Streamdrop local stack");
        println!("  S3 endpoint:        {}", started.s3_endpoint);
        println!("  signed-link edge:   {}", started.edge_url);
        match (started.access_key_id, started.secret_access_key) {
            (Some(id), Some(secret)) => {
                println!("  access key id:      {id}");
                println!("  secret access key:  {secret}  (generated for this run; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to choose your own)");
            }
            _ => println!("  keys:               from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        }
        println!("  buckets:            {}, {}", buckets.uploads, buckets.media);
        println!("  data:               {}", started.data_dir);
        println!("Press Ctrl-C to stop.");
    }
    crate::signals::stop_requested().await;
    session.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// What others ask of `serve`: files handed over become jobs of its engine,
/// and the CLI's requests are answered by it.
struct ServeControl(Session);

impl control::Handler for ServeControl {
    fn handle(&self, request: Request) -> BoxFuture<'static, Reply> {
        let session = self.0.clone();
        Box::pin(async move {
            let paths = match request {
                Request::Activate { paths } => paths,
                // The CLI beside `serve`: this engine answers.
                other => return session.answer(other).await.expect("only Activate is the face's own"),
            };
            if paths.is_empty() {
                return Reply::Refused {
                    message: "Streamdrop is already running on this data dir as `streamdrop serve`; stop it to open the app here".into(),
                };
            }
            match session.add(paths).await {
                Ok(report) => Reply::Done {
                    by: "serve".into(),
                    message: format!(
                        "Added {} file(s) to the running `streamdrop serve` ({} refused).",
                        report.accepted.len(),
                        report.rejected.len()
                    ),
                },
                Err(problem) => Reply::Refused { message: problem.message() },
            }
        })
    }
}
