//! S3 clients and object addresses. The same aws-sdk-s3 code talks to AWS, to
//! S3-compatible services and to the embedded local server; only the endpoint
//! and credentials differ.

use crate::model::Buckets;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::Client;

/// An S3 endpoint with its client and the buckets the flow uses.
#[derive(Debug, Clone)]
pub struct Storage {
    pub client: Client,
    /// Names this storage in the upload journal (`local`, or the endpoint), so a
    /// partial upload is only ever resumed on the server that holds it.
    pub target: String,
    pub buckets: Buckets,
    /// Shown to people ("Local mode · storage at …"); `None` means AWS's own endpoints.
    pub endpoint_url: Option<String>,
}

/// Path-style addressing is needed where there is no DNS for `bucket.host`:
/// IP addresses and localhost.
pub fn needs_path_style(endpoint_url: &str) -> bool {
    let after_scheme = endpoint_url.split_once("://").map_or(endpoint_url, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or_default();
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(host, _port)| host)
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok()
}

/// A client for an explicit endpoint with static credentials (local mode, tests).
pub fn static_client(endpoint_url: &str, region: &str, credentials: Credentials) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint_url)
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .force_path_style(needs_path_style(endpoint_url))
        .build();
    Client::from_conf(config)
}

/// A client from the standard AWS chain (environment, profiles, SSO), optionally
/// pointed at an S3-compatible endpoint.
pub async fn chain_client(endpoint_url: Option<&str>, region: Option<&str>, force_path_style: bool) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let shared = loader.load().await;
    let mut config = aws_sdk_s3::config::Builder::from(&shared);
    if shared.region().is_none() {
        // S3-compatible servers ignore the region, but the SDK refuses to sign without one.
        config = config.region(Region::from_static("us-east-1"));
    }
    if let Some(url) = endpoint_url {
        config = config.endpoint_url(url).force_path_style(force_path_style || needs_path_style(url));
    } else {
        config = config.force_path_style(force_path_style);
    }
    Client::from_conf(config.build())
}

/// Creates `bucket` unless it already exists and is ours.
pub async fn ensure_bucket(client: &Client, bucket: &str) -> Result<(), aws_sdk_s3::Error> {
    if client.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(err) => {
            let err = aws_sdk_s3::Error::from(err);
            match err {
                // Lost a race with another creator of the same bucket: still ours.
                aws_sdk_s3::Error::BucketAlreadyOwnedByYou(_) => Ok(()),
                other => Err(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectRef;

    #[test]
    fn parses_and_prints_object_refs() {
        let r: ObjectRef = "s3://media/raw/clip one é.mov".parse().unwrap();
        assert_eq!(r.bucket, "media");
        assert_eq!(r.key, "raw/clip one é.mov");
        assert_eq!(r.to_string(), "s3://media/raw/clip one é.mov");
        for bad in ["media/key", "s3://", "s3://bucket", "s3://bucket/", "s3:///key"] {
            assert!(bad.parse::<ObjectRef>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn path_style_only_for_ip_and_localhost() {
        assert!(needs_path_style("http://127.0.0.1:9000"));
        assert!(needs_path_style("http://localhost:9000/"));
        assert!(needs_path_style("http://[::1]:9000"));
        assert!(!needs_path_style("https://s3.eu-west-1.amazonaws.com"));
        assert!(!needs_path_style("https://abc.r2.cloudflarestorage.com"));
    }
}
