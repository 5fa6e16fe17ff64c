//! `streamdrop connection …`: the AWS accounts Streamdrop can use, and which
//! one is active. Keys go to the OS keychain only; they are read from the
//! terminal (no echo), from standard input, or with `--from-env` from
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, never from
//! arguments (other users can read a process's arguments).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use streamdrop_core::credentials::{
    self, AwsAuth, AwsConnection, AwsKeys, Connection, OsKeychain, SecretItem, SecretRef, SecretStore, Settings,
    Transcoder,
};
use streamdrop_core::model::ConnectionName;
use streamdrop_core::DataDir;
use zeroize::Zeroizing;

use crate::output::json_line;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Add an AWS connection: keys kept in the OS keychain, or an AWS profile
    Add(AddArgs),
    /// List connections; `*` marks the active one
    List {
        /// Print one JSON line
        #[arg(long)]
        json: bool,
    },
    /// Make a connection the active one
    Use { name: String },
    /// Remove a connection and its secrets from the OS keychain
    Remove { name: String },
    /// Check that a connection's credentials work (STS GetCallerIdentity)
    Check {
        /// Default: the active connection
        name: Option<String>,
        /// One endpoint for every service, for this run
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// A name people recognise, e.g. "Production AWS"
    name: String,
    /// Use an access key, read from the terminal or standard input (lines:
    /// access key id, secret access key, optional session token) and kept
    /// only in the OS keychain
    #[arg(long, required_unless_present = "profile", conflicts_with = "profile")]
    keys: bool,
    /// With --keys: read AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN instead
    #[arg(long, requires = "keys")]
    from_env: bool,
    /// Use a profile from ~/.aws (static keys, IAM Identity Center/SSO, assume-role)
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,
    /// Default: the profile's region, else $AWS_REGION, else us-east-1
    #[arg(long)]
    region: Option<String>,
    /// One endpoint for S3, IAM, CloudFront and STS (an AWS-compatible server such as moto)
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Make it the active connection
    #[arg(long = "use")]
    make_active: bool,
}

pub async fn run(data_dir: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = DataDir::resolve(data_dir)?;
    match args.command {
        Command::Add(add_args) => add(&data_dir, add_args).await,
        Command::List { json } => list(&data_dir, json),
        Command::Use { name } => {
            let mut settings = Settings::load(&data_dir)?;
            let name = settings.set_active(&name)?.name();
            settings.save(&data_dir)?;
            println!("active connection: {name}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Remove { name } => remove(&data_dir, &name).await,
        Command::Check { name, endpoint_url, json } => check(&data_dir, name, endpoint_url, json).await,
    }
}

/// The OS keychain as a shared store, with the reason it is needed on failure.
pub fn keychain(why: &str) -> anyhow::Result<Arc<dyn SecretStore>> {
    let keychain = OsKeychain::open().with_context(|| format!("{why} needs the OS keychain"))?;
    Ok(Arc::new(keychain))
}

async fn add(data_dir: &DataDir, args: AddArgs) -> anyhow::Result<ExitCode> {
    let name = ConnectionName::new(args.name)?;
    let mut settings = Settings::load(data_dir)?;
    if name.is_local() {
        bail!("\"Local\" is the built-in local connection; choose another name");
    }
    if settings.get(name.as_str()).is_some() {
        bail!("a connection named {:?} already exists (`streamdrop connection remove` it first)", name.as_str());
    }
    let region = match (&args.region, &args.profile) {
        (Some(region), _) => region.clone(),
        (None, Some(profile)) => credentials::aws::profile_region(profile).await.unwrap_or_else(default_region),
        (None, None) => default_region(),
    };
    let auth = match &args.profile {
        Some(profile) => AwsAuth::Profile(profile.clone()),
        None => AwsAuth::Keys,
    };
    let connection =
        AwsConnection { name: name.clone(), auth, region, endpoint_url: args.endpoint_url, resources: None };

    let mut stored_keys = None;
    if args.keys {
        let secrets = keychain("a keys connection")?;
        let keys = if args.from_env { keys_from_env()? } else { keys_from_stdin()? };
        let secret = SecretRef::new(&name, SecretItem::AwsKeys);
        credentials::secrets::set_secret(&secrets, &secret, keys.to_keychain_value()).await?;
        stored_keys = Some((secrets, secret, keys.access_key_id().to_owned()));
    }
    settings.add(connection)?;
    if args.make_active {
        settings.set_active(name.as_str())?;
    }
    if let Err(err) = settings.save(data_dir) {
        if let Some((secrets, secret, _)) = &stored_keys {
            let _ = credentials::secrets::delete_secret(secrets, secret).await;
        }
        return Err(err.into());
    }
    match &stored_keys {
        Some((secrets, _, key_id)) => {
            println!("added connection \"{name}\": access key {key_id} kept in the {}", secrets.describe())
        }
        None => println!("added connection \"{name}\": AWS profile {:?}", args.profile.unwrap_or_default()),
    }
    if args.make_active {
        println!("active connection: {name}");
    }
    Ok(ExitCode::SUCCESS)
}

fn default_region() -> String {
    std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".into())
}

fn keys_from_env() -> anyhow::Result<AwsKeys> {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(id), Some(secret)) = (read("AWS_ACCESS_KEY_ID"), read("AWS_SECRET_ACCESS_KEY")) else {
        bail!("--from-env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    };
    let secret = Zeroizing::new(secret);
    let token = read("AWS_SESSION_TOKEN").map(Zeroizing::new);
    Ok(AwsKeys::new(id, secret.as_str(), token.as_deref().map(String::as_str)))
}

fn keys_from_stdin() -> anyhow::Result<AwsKeys> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("AWS access key ID: ");
        std::io::stderr().flush().ok();
        let mut id = String::new();
        stdin.read_line(&mut id).context("reading the access key id")?;
        let secret = Zeroizing::new(rpassword::prompt_password("AWS secret access key (not shown): ")?);
        let token = Zeroizing::new(rpassword::prompt_password("AWS session token (empty for none): ")?);
        return checked_keys(id.trim(), secret.trim(), Some(token.trim()));
    }
    let mut text = Zeroizing::new(String::new());
    stdin.lock().read_to_string(&mut text).context("reading the keys from standard input")?;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let id = lines.next().unwrap_or_default();
    let secret = lines.next().unwrap_or_default();
    let token = lines.next();
    checked_keys(id, secret, token)
}

fn checked_keys(id: &str, secret: &str, token: Option<&str>) -> anyhow::Result<AwsKeys> {
    if id.is_empty() || secret.is_empty() {
        bail!(
            "--keys reads the access key id, then the secret access key (then an optional session token), \
             one per line, from standard input; or pass --from-env"
        );
    }
    if id.chars().any(char::is_whitespace) || secret.chars().any(char::is_whitespace) {
        bail!("the access key id and secret access key cannot contain spaces");
    }
    Ok(AwsKeys::new(id, secret, token))
}

fn describe(connection: &Connection) -> Value {
    match connection {
        Connection::Local => json!({ "name": "Local", "kind": "local" }),
        Connection::Aws(aws) => {
            let (kind, profile) = match &aws.auth {
                AwsAuth::Keys => ("keys", None),
                AwsAuth::Profile(p) => ("profile", Some(p.as_str())),
            };
            let resources = aws.resources.as_ref();
            json!({
                "name": aws.name.as_str(),
                "kind": kind,
                "profile": profile,
                "region": aws.region,
                "endpointUrl": aws.endpoint_url,
                "uploadBucket": resources.map(|r| r.upload_bucket.as_str()),
                "mediaBucket": resources.map(|r| r.media_bucket.as_str()),
                "transcoder": resources.map(|r| r.transcoder.kind().as_str()),
                "mediaconvertRoleArn": resources.and_then(|r| match &r.transcoder {
                    Transcoder::MediaConvert { role_arn } => role_arn.as_deref(),
                    _ => None,
                }),
                "distribution": resources.and_then(|r| r.distribution.as_ref()).map(|d| json!({
                    "id": d.id, "domain": d.domain, "keyPairId": d.key_pair_id
                })),
            })
        }
    }
}

fn list(data_dir: &DataDir, json: bool) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(data_dir)?;
    let active = settings.active_name().clone();
    if json {
        let connections: Vec<Value> = settings
            .connections()
            .iter()
            .map(|c| {
                let mut value = describe(c);
                value["active"] = json!(c.name() == active);
                value
            })
            .collect();
        json_line(&json!({ "active": active.as_str(), "connections": connections }));
        return Ok(ExitCode::SUCCESS);
    }
    for connection in settings.connections() {
        let marker = if connection.name() == active { '*' } else { ' ' };
        let text = match connection {
            Connection::Local => "local     the embedded S3 server on this machine".to_owned(),
            Connection::Aws(aws) => {
                let auth = match &aws.auth {
                    AwsAuth::Keys => "keys      access key in the OS keychain".to_owned(),
                    AwsAuth::Profile(p) => format!("profile   {p}"),
                };
                let mut text = format!("{auth}, {}", aws.region);
                if let Some(url) = &aws.endpoint_url {
                    text.push_str(&format!(", endpoint {url}"));
                }
                match &aws.resources {
                    Some(r) => {
                        text.push_str(&format!(", buckets {} and {}", r.upload_bucket, r.media_bucket));
                        if let Some(d) = &r.distribution {
                            text.push_str(&format!(", {}", d.domain));
                        }
                    }
                    None => text.push_str(", not set up (streamdrop setup --plan)"),
                }
                text
            }
        };
        println!("{marker} {:<20} {text}", connection.name().as_str());
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(data_dir: &DataDir, name: &str) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(data_dir)?;
    let connection = settings.get_aws(name)?.clone();
    let has_secrets =
        connection.auth == AwsAuth::Keys || connection.resources.as_ref().is_some_and(|r| r.distribution.is_some());
    let secrets = match keychain("removing a connection's secrets") {
        Ok(secrets) => Some(secrets),
        Err(err) if has_secrets => return Err(err),
        Err(_) => None,
    };
    let mut removed = Vec::new();
    if let Some(secrets) = &secrets {
        for item in SecretItem::ALL {
            let secret = SecretRef::new(&connection.name, item);
            if credentials::secrets::delete_secret(secrets, &secret).await? {
                removed.push(secret.to_string());
            }
        }
    }
    settings.remove(name)?;
    settings.save(data_dir)?;
    println!("removed connection {:?}", connection.name.as_str());
    for what in removed {
        println!("deleted {what} from the OS keychain");
    }
    if connection.resources.is_some() {
        println!("its AWS resources are left as they are (buckets, role, key group, distribution)");
    }
    println!("active connection: {}", settings.active_name());
    Ok(ExitCode::SUCCESS)
}

async fn check(
    data_dir: &DataDir,
    name: Option<String>,
    endpoint_url: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(data_dir)?;
    let name = name.unwrap_or_else(|| settings.active_name().to_string());
    let connection = settings.get_aws(&name)?;
    let secrets = OsKeychain::open_shared();
    let target = credentials::target(connection, &secrets, endpoint_url.as_deref()).await?;
    let identity = credentials::caller_identity(connection, &target).await?;
    if json {
        json_line(&json!({ "connection": connection.name.as_str(), "account": identity.account, "arn": identity.arn }));
    } else {
        println!("connection {:?} works: account {}, {}", connection.name.as_str(), identity.account, identity.arn);
    }
    Ok(ExitCode::SUCCESS)
}
