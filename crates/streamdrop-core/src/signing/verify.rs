//! Verification: CloudFront's rules applied to an incoming request, for the
//! local edge that stands in for CloudFront.

use std::net::IpAddr;

use super::encoding::{cloudfront_base64_decode, percent_decode};
use super::keys::{HashAlgorithm, KeyAlgorithm, PublicKeySet};
use super::policy::{wildcard_match, Ipv4Cidr, Policy, SIGNING_PARAMS};

/// Why a request is refused. CloudFront answers all of these with 403; the
/// variants say which rule failed, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error(
        "the request is not signed: it has no CloudFront Signature/Key-Pair-Id query parameters \
         and no CloudFront-* cookies"
    )]
    Unsigned,
    #[error("malformed signed request: {0}")]
    Malformed(String),
    #[error("unknown key pair ID {0:?}: the request was signed with a key this server does not trust")]
    UnknownKeyPairId(String),
    #[error(
        "the signature does not match the policy: the link was altered, signed with another key, \
         or requested at another URL than the one signed"
    )]
    BadSignature,
    #[error("the signature expired at {expired_at} (Unix time)")]
    Expired { expired_at: u64 },
    #[error("the signature is not valid until after {valid_after} (Unix time)")]
    NotYetValid { valid_after: u64 },
    #[error("the policy covers {resource:?}, not the requested URL {url:?}")]
    ResourceMismatch { resource: String, url: String },
    #[error("the client address {client} is outside the policy's allowed range {allowed}")]
    IpNotAllowed { client: IpAddr, allowed: Ipv4Cidr },
}

/// Checks a request the way CloudFront does for signed URLs and cookies.
///
/// - `request_url`: the absolute URL as requested (scheme, host, path and
///   query exactly as the client sent them, e.g.
///   `http://127.0.0.1:8443/jobs/42/master.m3u8?Policy=…&Signature=…&Key-Pair-Id=…`).
///   The CloudFront parameters are taken out of the query; what remains is
///   the URL the policy must cover.
/// - `cookies`: the request's cookies as (name, value) pairs (see
///   [`parse_cookie_header`]); used when the query carries no signature.
/// - `client_ip`, `now` (Unix seconds): for the `IpAddress` and date conditions.
///
/// The signature is checked before any condition, so nothing about a policy
/// is trusted, or reported, unless its signature holds.
pub fn verify_request(
    request_url: &str,
    cookies: &[(&str, &str)],
    client_ip: IpAddr,
    now: u64,
    keys: &PublicKeySet,
) -> Result<(), Denied> {
    let request_url = request_url.split('#').next().unwrap_or_default();
    let (path, query) = match request_url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request_url, None),
    };

    let mut signing = SigningParams::default();
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if SIGNING_PARAMS.contains(&name) {
            signing.set(name, percent_decode(value))?;
        } else {
            kept.push(pair);
        }
    }
    // The URL without the CloudFront parameters, the other parameters kept in
    // their order: what a canned policy names and a custom one must cover.
    let url = if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) };

    if signing.is_empty() {
        for (name, value) in cookies {
            if let Some(param) = name.strip_prefix("CloudFront-") {
                if SIGNING_PARAMS.contains(&param) {
                    signing.set(param, (*value).to_owned())?;
                }
            }
        }
    }
    if signing.is_empty() {
        return Err(Denied::Unsigned);
    }

    let malformed = |what: &str| Denied::Malformed(what.to_owned());
    let key_pair_id = signing.key_pair_id.ok_or_else(|| malformed("Key-Pair-Id is missing"))?;
    let signature = signing.signature.ok_or_else(|| malformed("Signature is missing"))?;
    let hash = HashAlgorithm::from_param(signing.hash_algorithm.as_deref())
        .ok_or_else(|| malformed("Hash-Algorithm must be SHA1 or SHA256"))?;
    let key = keys.get(&key_pair_id).ok_or_else(|| Denied::UnknownKeyPairId(key_pair_id.clone()))?;
    if key.algorithm() == KeyAlgorithm::EcdsaP256 && hash != HashAlgorithm::Sha256 {
        return Err(malformed("an ECDSA signature needs Hash-Algorithm=SHA256"));
    }

    let (document, canned_expiry) = match (signing.expires, signing.policy) {
        (Some(_), Some(_)) => return Err(malformed("both Expires and Policy are present")),
        (None, None) => return Err(malformed("neither Expires nor Policy is present")),
        (Some(expires), None) => {
            let expires_at = expires
                .parse::<u64>()
                .ok()
                .filter(|n| n.to_string() == expires)
                .ok_or_else(|| malformed("Expires is not a Unix time in seconds"))?;
            // CloudFront rebuilds the canned policy from the URL; building it
            // through Policy would re-encode the URL, so write it as received.
            let document = format!(
                r#"{{"Statement":[{{"Resource":"{url}","Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires_at}}}}}}}]}}"#
            );
            (document.into_bytes(), Some(expires_at))
        }
        (None, Some(policy)) => {
            let document =
                cloudfront_base64_decode(&policy).ok_or_else(|| malformed("Policy is not CloudFront base64"))?;
            (document, None)
        }
    };
    let signature =
        cloudfront_base64_decode(&signature).ok_or_else(|| malformed("Signature is not CloudFront base64"))?;
    if !key.verify(&document, &signature, hash) {
        return Err(Denied::BadSignature);
    }

    if let Some(expires_at) = canned_expiry {
        return check_expiry(expires_at, now);
    }
    let policy = Policy::from_json(&document).map_err(Denied::Malformed)?;
    check_expiry(policy.expires(), now)?;
    if let Some(valid_after) = policy.not_before() {
        if now <= valid_after {
            return Err(Denied::NotYetValid { valid_after });
        }
    }
    if !wildcard_match(policy.resource(), &url) {
        return Err(Denied::ResourceMismatch { resource: policy.resource().to_owned(), url });
    }
    if let Some(allowed) = policy.ip_range() {
        let ipv4 = match client_ip {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(ip) => ip.to_ipv4_mapped(),
        };
        if !ipv4.is_some_and(|ip| allowed.contains(ip)) {
            return Err(Denied::IpNotAllowed { client: client_ip, allowed });
        }
    }
    Ok(())
}

/// Splits a `Cookie` request header (`a=1; b=2`) into (name, value) pairs.
pub fn parse_cookie_header(header: &str) -> Vec<(&str, &str)> {
    header
        .split(';')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let value = value.trim();
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
            Some((name.trim(), value))
        })
        .collect()
}

fn check_expiry(expires_at: u64, now: u64) -> Result<(), Denied> {
    if now >= expires_at {
        Err(Denied::Expired { expired_at: expires_at })
    } else {
        Ok(())
    }
}

/// The CloudFront parameters of one request, from its query or its cookies.
#[derive(Default)]
struct SigningParams {
    expires: Option<String>,
    policy: Option<String>,
    signature: Option<String>,
    key_pair_id: Option<String>,
    hash_algorithm: Option<String>,
}

impl SigningParams {
    fn set(&mut self, name: &str, value: String) -> Result<(), Denied> {
        let slot = match name {
            "Expires" => &mut self.expires,
            "Policy" => &mut self.policy,
            "Signature" => &mut self.signature,
            "Key-Pair-Id" => &mut self.key_pair_id,
            _ => &mut self.hash_algorithm,
        };
        if slot.replace(value).is_some() {
            return Err(Denied::Malformed(format!("{name} appears more than once")));
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.expires.is_none()
            && self.policy.is_none()
            && self.signature.is_none()
            && self.key_pair_id.is_none()
            && self.hash_algorithm.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_headers_split_into_pairs() {
        let pairs = parse_cookie_header("a=1; CloudFront-Policy=eyJ_; CloudFront-Signature=\"x~y\";broken; b=");
        assert_eq!(pairs, [("a", "1"), ("CloudFront-Policy", "eyJ_"), ("CloudFront-Signature", "x~y"), ("b", "")]);
        assert!(parse_cookie_header("").is_empty());
    }

    #[test]
    fn unsigned_and_half_signed_requests_are_told_apart() {
        let keys = PublicKeySet::new();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(verify_request("https://h/a.mp4?x=1", &[], ip, 0, &keys), Err(Denied::Unsigned));
        assert_eq!(verify_request("https://h/a.mp4", &[("session", "1")], ip, 0, &keys), Err(Denied::Unsigned));
        let half = verify_request("https://h/a.mp4?Expires=5&Signature=abc", &[], ip, 0, &keys);
        assert_eq!(half, Err(Denied::Malformed("Key-Pair-Id is missing".into())));
        let twice = verify_request("https://h/a?Signature=a&Signature=b", &[], ip, 0, &keys);
        assert_eq!(twice, Err(Denied::Malformed("Signature appears more than once".into())));
        let unknown = verify_request("https://h/a?Expires=5&Signature=YQ__&Key-Pair-Id=K9", &[], ip, 0, &keys);
        assert_eq!(unknown, Err(Denied::UnknownKeyPairId("K9".into())));
    }
}
