//! `streamdrop sign URL --key-pair-id ID --private-key PEM_FILE (--expires EPOCH | --policy FILE)`:
//! a CloudFront signed URL, printed alone on one line of stdout, for scripts.
//!
//! `--expires` signs a canned policy (one exact URL); `--policy` reads a custom
//! policy document in CloudFront's JSON and signs it. The document is read
//! into the signer's `Policy` and signed in its canonical form (whitespace and
//! key order do not survive, the grant does): CloudFront verifies whatever
//! document the URL carries.

use std::fs;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _};
use serde_json::{Map, Value};
use streamdrop_core::signing::{sign_url, HashAlgorithm, Ipv4Cidr, KeyAlgorithm, Policy, PrivateKey, SigningKey};

/// Key and policy files are small; anything bigger is the wrong file.
const MAX_FILE_BYTES: u64 = 64 * 1024;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("grant").required(true).args(["expires", "policy"])))]
pub struct Args {
    /// The URL to sign, e.g. https://d111111abcdef8.cloudfront.net/jobs/42/master.m3u8
    /// (spaces and non-ASCII characters are percent-encoded, as clients send them)
    url: String,
    /// The ID CloudFront gave the key pair's public key, e.g. K2JCJMDEHXQW5F
    #[arg(long, value_name = "ID")]
    key_pair_id: String,
    /// PEM file with the private key (RSA, or ECDSA P-256); it is read, never printed
    #[arg(long, value_name = "PEM_FILE")]
    private_key: PathBuf,
    /// Expiry in Unix epoch seconds: signs a canned policy for exactly URL
    #[arg(long, value_name = "EPOCH")]
    expires: Option<u64>,
    /// A custom policy, CloudFront's JSON document: {"Statement":[{"Resource":"https://…/jobs/42/*",
    /// "Condition":{"DateLessThan":{"AWS:EpochTime":N}, "DateGreaterThan":…, "IpAddress":{"AWS:SourceIp":"CIDR"}}}]}
    #[arg(long, value_name = "POLICY_JSON_FILE")]
    policy: Option<PathBuf>,
    /// The digest signed [default: SHA1 for RSA keys, SHA256 for ECDSA keys, which allow nothing else]
    #[arg(long, value_enum, ignore_case = true, value_name = "ALGORITHM")]
    hash_algorithm: Option<HashArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum HashArg {
    #[value(name = "SHA1")]
    Sha1,
    #[value(name = "SHA256")]
    Sha256,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let policy = match (args.expires, &args.policy) {
        (Some(expires), None) => {
            warn_about_expiry(expires);
            Policy::canned(&args.url, expires).with_context(|| format!("cannot sign {:?}", args.url))?
        }
        (None, Some(path)) => {
            let text = read_small_file(path, "policy")?;
            let text =
                String::from_utf8(text).map_err(|_| anyhow!("the policy file {} is not UTF-8 text", path.display()))?;
            let policy = parse_policy(&text)
                .with_context(|| format!("{} is not a CloudFront policy this command can sign", path.display()))?;
            warn_about_expiry(policy.expires());
            policy
        }
        // clap's "grant" group requires exactly one of them.
        _ => bail!("pass either --expires EPOCH or --policy POLICY_JSON_FILE"),
    };
    let key = load_key(&args.private_key, &args.key_pair_id, args.hash_algorithm)?;
    let signed = sign_url(&args.url, &policy, &key)?;
    println!("{signed}");
    Ok(ExitCode::SUCCESS)
}

/// Signing succeeds for any expiry; these two are almost always mistakes.
fn warn_about_expiry(expires: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if expires > 100_000_000_000 {
        eprintln!("streamdrop: warning: the expiry {expires} looks like milliseconds; CloudFront wants epoch seconds");
    } else if expires <= now {
        eprintln!("streamdrop: warning: the expiry {expires} is in the past: CloudFront will refuse this URL");
    }
}

fn load_key(path: &Path, key_pair_id: &str, hash: Option<HashArg>) -> anyhow::Result<SigningKey> {
    let pem = read_small_file(path, "private key")?;
    let parsed = match std::str::from_utf8(&pem) {
        Ok(text) => PrivateKey::from_pem(text)
            .map_err(|e| anyhow!("{} is not a usable CloudFront private key: {e}", path.display())),
        Err(_) => Err(anyhow!("{} is not a PEM private key (it is not text)", path.display())),
    };
    wipe(pem);
    let key = parsed?;

    let ecdsa = key.algorithm() == KeyAlgorithm::EcdsaP256;
    let hash = match (hash, ecdsa) {
        (Some(HashArg::Sha1), true) => bail!(
            "{} is an ECDSA key, and ECDSA keys sign with SHA-256 only (CloudFront refuses ECDSA signatures \
             made with SHA-1): pass --hash-algorithm SHA256, or leave the option out",
            path.display()
        ),
        (Some(HashArg::Sha256), _) | (None, true) => HashAlgorithm::Sha256,
        (Some(HashArg::Sha1), false) | (None, false) => HashAlgorithm::Sha1,
    };
    Ok(SigningKey::new(key_pair_id, key, hash)?)
}

fn read_small_file(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let cannot = |e: std::io::Error| anyhow!("cannot read the {what} file {}: {e}", path.display());
    let metadata = fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        bail!("the {what} file {} is not a regular file", path.display());
    }
    if metadata.len() > MAX_FILE_BYTES {
        bail!(
            "the {what} file {} is {} bytes, too large to be a {what} (at most {MAX_FILE_BYTES}): is it the right file?",
            path.display(),
            metadata.len()
        );
    }
    fs::read(path).map_err(cannot)
}

/// Overwrites key material before the memory is freed.
fn wipe(mut bytes: Vec<u8>) {
    bytes.fill(0);
    std::hint::black_box(&bytes);
}

/// Reads CloudFront's custom policy document: one statement with a
/// `Resource` and `Condition`s `DateLessThan` (required), `DateGreaterThan`
/// and `IpAddress`. Unknown keys are refused rather than silently dropped
/// from what gets signed.
fn parse_policy(text: &str) -> anyhow::Result<Policy> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root: Value = serde_json::from_str(text).context("it is not valid JSON")?;
    let root = object(&root, "the document")?;
    only_keys(root, "the document", &["Statement"])?;
    let statements = root.get("Statement").and_then(Value::as_array).context("it has no \"Statement\" list")?;
    let [statement] = statements.as_slice() else {
        bail!("it has {} statements; CloudFront takes exactly one", statements.len());
    };
    let statement = object(statement, "the statement")?;
    only_keys(statement, "the statement", &["Resource", "Condition"])?;
    let resource = match statement.get("Resource") {
        Some(Value::String(resource)) => resource,
        Some(_) => bail!("\"Resource\" is not a string"),
        None => bail!(
            "the statement has no \"Resource\": write the URL or wildcard pattern it grants, \
             e.g. \"https://d111111abcdef8.cloudfront.net/jobs/42/*\" (or \"*\" for every URL)"
        ),
    };
    let condition = object(statement.get("Condition").context("the statement has no \"Condition\"")?, "\"Condition\"")?;
    only_keys(condition, "\"Condition\"", &["DateLessThan", "DateGreaterThan", "IpAddress"])?;
    let expires = epoch_time(
        condition
            .get("DateLessThan")
            .context("\"Condition\" has no \"DateLessThan\", the expiry CloudFront requires")?,
        "DateLessThan",
    )?;
    let mut policy = Policy::custom(resource, expires);
    if let Some(value) = condition.get("DateGreaterThan") {
        policy = policy.not_before(epoch_time(value, "DateGreaterThan")?);
    }
    if let Some(value) = condition.get("IpAddress") {
        let ip = object(value, "\"IpAddress\"")?;
        only_keys(ip, "\"IpAddress\"", &["AWS:SourceIp"])?;
        let range = ip
            .get("AWS:SourceIp")
            .and_then(Value::as_str)
            .context("\"IpAddress\" needs \"AWS:SourceIp\", an IPv4 CIDR string such as \"192.0.2.0/24\"")?;
        policy = policy.ip_range(range.parse::<Ipv4Cidr>()?);
    }
    Ok(policy.build()?)
}

fn object<'a>(value: &'a Value, what: &str) -> anyhow::Result<&'a Map<String, Value>> {
    value.as_object().with_context(|| format!("{what} is not a JSON object"))
}

fn only_keys(object: &Map<String, Value>, what: &str, allowed: &[&str]) -> anyhow::Result<()> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => bail!("{what} has {key:?}, which this command does not support (allowed: {})", allowed.join(", ")),
        None => Ok(()),
    }
}

fn epoch_time(value: &Value, name: &str) -> anyhow::Result<u64> {
    let time = value.as_object().filter(|o| o.len() == 1).and_then(|o| o.get("AWS:EpochTime"));
    time.and_then(Value::as_u64)
        .with_context(|| format!("\"{name}\" must be {{\"AWS:EpochTime\": SECONDS}}, a whole number of Unix seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_become_policies() {
        let policy = parse_policy(
            r#"{ "Statement": [ { "Resource": "https://h/jobs/A/*",
                 "Condition": { "IpAddress": {"AWS:SourceIp": "192.0.2.0/24"},
                                "DateGreaterThan": {"AWS:EpochTime": 100}, "DateLessThan": {"AWS:EpochTime": 200} } } ] }"#,
        )
        .unwrap();
        assert_eq!(
            policy.to_json(),
            r#"{"Statement":[{"Resource":"https://h/jobs/A/*","Condition":{"DateLessThan":{"AWS:EpochTime":200},"DateGreaterThan":{"AWS:EpochTime":100},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}"#
        );
        let minimal = parse_policy(
            "\u{feff}{\"Statement\":[{\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"AWS:EpochTime\":5}}}]}",
        );
        assert_eq!(minimal.unwrap().resource(), "*");
    }

    #[test]
    fn policy_mistakes_are_explained() {
        let cases = [
            ("not json", "not valid JSON"),
            (r#"{"Statement":[]}"#, "0 statements"),
            (r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}"#, "no \"Resource\""),
            (r#"{"Statement":[{"Resource":"https://h/*","Condition":{}}]}"#, "no \"DateLessThan\""),
            (
                r#"{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":"5"}}}]}"#,
                "whole number",
            ),
            (
                r#"{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":5},"StringLike":{}}}]}"#,
                "\"StringLike\"",
            ),
            (
                r#"{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}}}]}"#,
                "IPv4 only",
            ),
            (
                r#"{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":5},"DateGreaterThan":{"AWS:EpochTime":9}}}]}"#,
                "must be before the expiration",
            ),
        ];
        for (text, expected) in cases {
            let err = format!("{:#}", parse_policy(text).unwrap_err());
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
