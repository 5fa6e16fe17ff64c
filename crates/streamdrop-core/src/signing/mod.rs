//! CloudFront signed URLs and cookies, and their verification (issue #6).
//! Kept apart from storage because the same signer serves CloudFront and the
//! local edge, which enforces CloudFront's rules with [`verify_request`].
//!
//! How it fits together:
//! - a [`SigningKey`] is a [`PrivateKey`] (RSA or ECDSA P-256, from PEM or
//!   generated in memory) plus the CloudFront key pair ID of its public key
//!   and the [`HashAlgorithm`] (SHA-1, CloudFront's default, or SHA-256);
//! - a [`Policy`] says what is granted: [`Policy::canned`] for one URL until
//!   an expiry, or [`Policy::custom`] for a wildcard resource, an optional
//!   start time and IPv4 range;
//! - [`sign_url`] appends the signature to a URL, [`query_string`] gives the
//!   signed query alone (one signature of a wildcard policy reused on every
//!   URI of a playlist), [`signed_cookies`] gives the cookies instead.
//!
//! ```
//! use streamdrop_core::signing::{sign_url, HashAlgorithm, Policy, PrivateKey, SigningKey};
//!
//! let key = SigningKey::new("K2JCJMDEHXQW5F", PrivateKey::generate_ecdsa_p256()?, HashAlgorithm::Sha256)?;
//! let policy = Policy::custom("https://d111111abcdef8.cloudfront.net/jobs/42/*", 1_767_290_400).build()?;
//! let url = sign_url("https://d111111abcdef8.cloudfront.net/jobs/42/master.m3u8", &policy, &key)?;
//! assert!(url.as_str().contains("?Policy="));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Resources and URLs are percent-encoded before they are signed (see
//! [`percent_encode_url`]): sign `https://host/My Clip.mp4` and the link is
//! `https://host/My%20Clip.mp4?…`, exactly what a player will request.

mod encoding;
mod keys;
mod policy;
mod verify;

#[cfg(test)]
mod properties;

use std::fmt;

pub use encoding::percent_encode_url;
pub use keys::{HashAlgorithm, KeyAlgorithm, KeyError, PrivateKey, PublicKey, PublicKeySet, SigningKey};
pub use policy::{CustomPolicyBuilder, Ipv4Cidr, Policy, PolicyError};
pub use verify::{parse_cookie_header, verify_request, Denied};

use encoding::cloudfront_base64;

/// Why a URL, query or cookies cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    InvalidUrl(#[from] PolicyError),
    #[error(
        "{url:?} is not covered by the policy's resource {resource:?}, so CloudFront would refuse \
         the signature: sign it with a policy for this URL"
    )]
    NotCovered { url: String, resource: String },
    #[error("signing failed: {0}")]
    Crypto(String),
}

/// A URL with its CloudFront signature appended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignedUrl(String);

impl SignedUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SignedUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The signing part of a query string (`Policy=…&Signature=…&Key-Pair-Id=…`,
/// or `Expires=…` first for a canned policy, `&Hash-Algorithm=SHA256` last
/// for SHA-256), to append to URLs the policy covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignedQuery(String);

impl SignedQuery {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `uri` with this query appended after `?`, or after `&` when it already
    /// has a query. Works on relative URIs too, such as the segment and
    /// variant URIs of an HLS playlist; a `#fragment` stays at the end.
    pub fn append_to(&self, uri: &str) -> String {
        let (before, fragment) = match uri.split_once('#') {
            Some((before, fragment)) => (before, Some(fragment)),
            None => (uri, None),
        };
        let separator = if before.contains('?') { '&' } else { '?' };
        let mut out = format!("{before}{separator}{}", self.0);
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }
}

impl fmt::Display for SignedQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Signs `url` under `policy`: a canned policy must be for this exact URL, a
/// custom one must cover it. `url` is percent-encoded like the policy's
/// resource, and may already have a query string (the signature then follows
/// `&`).
pub fn sign_url(url: &str, policy: &Policy, key: &SigningKey) -> Result<SignedUrl, SignError> {
    let url = policy::checked_url(url)?;
    if !policy.covers(&url) {
        return Err(SignError::NotCovered { url, resource: policy.resource().to_owned() });
    }
    let query = query_string(policy, key)?;
    Ok(SignedUrl(query.append_to(&url)))
}

/// The signed query alone, for reuse on every URL the policy covers: sign one
/// custom policy for `https://…/jobs/42/*` and append the same query to each
/// URI of the job's playlists.
pub fn query_string(policy: &Policy, key: &SigningKey) -> Result<SignedQuery, SignError> {
    let params = signing_values(policy, key)?;
    let query = params.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&");
    Ok(SignedQuery(query))
}

/// The signed cookies for `policy`: `CloudFront-Expires` (canned) or
/// `CloudFront-Policy` (custom), `CloudFront-Signature`,
/// `CloudFront-Key-Pair-Id`, and `CloudFront-Hash-Algorithm` for SHA-256.
/// Send each as its own `Set-Cookie` (with `Secure; HttpOnly`, and the
/// domain and path of the content).
pub fn signed_cookies(policy: &Policy, key: &SigningKey) -> Result<Vec<(&'static str, String)>, SignError> {
    let cookie_name = |param: &str| match param {
        "Expires" => "CloudFront-Expires",
        "Policy" => "CloudFront-Policy",
        "Signature" => "CloudFront-Signature",
        "Key-Pair-Id" => "CloudFront-Key-Pair-Id",
        _ => "CloudFront-Hash-Algorithm",
    };
    let params = signing_values(policy, key)?;
    Ok(params.into_iter().map(|(name, value)| (cookie_name(name), value)).collect())
}

/// The CloudFront parameters in the order AWS's documentation shows them.
fn signing_values(policy: &Policy, key: &SigningKey) -> Result<Vec<(&'static str, String)>, SignError> {
    let document = policy.to_json();
    let signature = key.sign(document.as_bytes()).map_err(SignError::Crypto)?;
    let mut params = Vec::with_capacity(4);
    if policy.is_canned() {
        params.push(("Expires", policy.expires().to_string()));
    } else {
        params.push(("Policy", cloudfront_base64(document.as_bytes())));
    }
    params.push(("Signature", cloudfront_base64(&signature)));
    params.push(("Key-Pair-Id", key.key_pair_id().to_owned()));
    if let Some(hash) = key.hash_algorithm().param_value() {
        params.push(("Hash-Algorithm", hash.to_owned()));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: &str) -> SignedQuery {
        SignedQuery(text.to_owned())
    }

    #[test]
    fn signed_query_appends_with_the_right_separator() {
        let q = query("Policy=P&Signature=S&Key-Pair-Id=K");
        assert_eq!(q.append_to("seg_001.ts"), "seg_001.ts?Policy=P&Signature=S&Key-Pair-Id=K");
        assert_eq!(q.append_to("720p/index.m3u8?v=2"), "720p/index.m3u8?v=2&Policy=P&Signature=S&Key-Pair-Id=K");
        assert_eq!(q.append_to("https://h/a.mp4#t=3"), "https://h/a.mp4?Policy=P&Signature=S&Key-Pair-Id=K#t=3");
    }

    #[test]
    fn sign_url_refuses_urls_the_policy_does_not_cover() {
        let key = SigningKey::new("K1", PrivateKey::generate_ecdsa_p256().unwrap(), HashAlgorithm::Sha256).unwrap();
        let canned = Policy::canned("https://h/a.mp4", 10).unwrap();
        let err = sign_url("https://h/b.mp4", &canned, &key).unwrap_err();
        assert!(matches!(err, SignError::NotCovered { .. }), "{err}");
        let custom = Policy::custom("https://h/jobs/A/*", 10).build().unwrap();
        assert!(sign_url("https://h/jobs/A/x.ts", &custom, &key).is_ok());
        assert!(matches!(sign_url("https://h/jobs/B/x.ts", &custom, &key), Err(SignError::NotCovered { .. })));
        assert!(matches!(sign_url("https://h/jobs/A/x.ts#f", &custom, &key), Err(SignError::InvalidUrl(_))));
    }

    #[test]
    fn sign_url_encodes_the_url_it_signs() {
        let key = SigningKey::new("K1", PrivateKey::generate_ecdsa_p256().unwrap(), HashAlgorithm::Sha256).unwrap();
        let policy = Policy::canned("https://h/My Clip.mp4", 10).unwrap();
        let url = sign_url("https://h/My Clip.mp4", &policy, &key).unwrap();
        assert!(url.as_str().starts_with("https://h/My%20Clip.mp4?Expires=10&Signature="), "{url}");
        assert!(url.as_str().ends_with("&Key-Pair-Id=K1&Hash-Algorithm=SHA256"), "{url}");
    }
}
