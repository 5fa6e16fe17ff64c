//! Policies: what a signature grants (which URL or URL pattern, until when,
//! from when, from which addresses), and the exact JSON CloudFront signs.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde_json::{Map, Value};

use super::encoding::percent_encode_url;

/// The query parameters (and, prefixed with `CloudFront-`, the cookies) that
/// carry a signature. CloudFront removes them before it compares a request
/// URL with the policy's `Resource`.
pub(crate) const SIGNING_PARAMS: [&str; 5] = ["Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"];

/// Why a policy cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the resource URL is empty: pass the URL to sign, e.g. https://d111111abcdef8.cloudfront.net/video.mp4")]
    EmptyResource,
    #[error(
        "{url:?} is not an absolute http:// or https:// URL with a host name: sign the full URL, \
         e.g. https://d111111abcdef8.cloudfront.net/video.mp4"
    )]
    NotAnHttpUrl { url: String },
    #[error("{url:?} has a non-ASCII or percent-encoded host name: write the host in its punycode (xn--) form")]
    InvalidHost { url: String },
    #[error(
        "{url:?} has a fragment ('#'), which clients never send to CloudFront: drop the fragment, \
         or write a '#' that is part of an object key as %23"
    )]
    Fragment { url: String },
    #[error(
        "{url:?} already carries the CloudFront parameter {param}: sign the URL without \
         Expires, Policy, Signature, Key-Pair-Id and Hash-Algorithm"
    )]
    AlreadySigned { url: String, param: String },
    #[error(
        "{url:?} contains the wildcard '*', but a canned policy covers one exact URL: use \
         Policy::custom for wildcards (or write a literal '*' in an object key as %2A)"
    )]
    WildcardInCannedPolicy { url: String },
    #[error(
        "the active date (DateGreaterThan, {not_before}) must be before the expiration \
         (DateLessThan, {expires})"
    )]
    ActiveAfterExpiration { not_before: u64, expires: u64 },
    #[error("{input:?} is not an IPv4 address or CIDR range such as 192.0.2.0/24 or 192.0.2.7{hint}")]
    InvalidIpRange { input: String, hint: &'static str },
}

/// An IPv4 address range in CIDR notation, the only form CloudFront accepts in
/// a policy's `IpAddress` condition (it has no IPv6 support there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The range of addresses whose first `prefix` bits equal `addr`'s.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self, PolicyError> {
        if prefix > 32 {
            return Err(PolicyError::InvalidIpRange {
                input: format!("{addr}/{prefix}"),
                hint: " (the prefix length is at most 32)",
            });
        }
        Ok(Self { addr, prefix })
    }

    /// The address as written (host bits are kept, as CloudFront keeps them).
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` falls in this range.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.addr) & mask
    }
}

/// A single address is the range of that one address (`/32`).
impl From<Ipv4Addr> for Ipv4Cidr {
    fn from(addr: Ipv4Addr) -> Self {
        Self { addr, prefix: 32 }
    }
}

/// Parses `a.b.c.d` (as `/32`) or `a.b.c.d/n`.
impl FromStr for Ipv4Cidr {
    type Err = PolicyError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = |hint| PolicyError::InvalidIpRange { input: input.to_owned(), hint };
        let (addr, prefix) = match input.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (input, None),
        };
        let Ok(addr) = addr.parse::<Ipv4Addr>() else {
            let hint = if addr.parse::<Ipv6Addr>().is_ok() { " (CloudFront policies accept IPv4 only)" } else { "" };
            return Err(invalid(hint));
        };
        let prefix = match prefix {
            None => 32,
            Some(p) if (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| invalid(""))?
            }
            Some(_) => return Err(invalid("")),
        };
        Self::new(addr, prefix).map_err(|_| invalid(" (the prefix length is at most 32)"))
    }
}

/// Always written with its prefix length, e.g. `192.0.2.7/32`.
impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// What a signature grants. Build one with [`Policy::canned`] (one exact URL,
/// an expiry, nothing else: the shortest URLs) or [`Policy::custom`]
/// (wildcards, an optional start time and IP range). Either way an expiry is
/// required, and the resource is percent-encoded (see
/// [`percent_encode_url`](super::percent_encode_url)) and checked.
///
/// Times are Unix epoch seconds (UTC), as CloudFront's `AWS:EpochTime`. A
/// request is allowed while `now < expires` and, with a start time, once
/// `now > not_before` (the `DateLessThan` / `DateGreaterThan` conditions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    resource: String,
    expires: u64,
    not_before: Option<u64>,
    ip_range: Option<Ipv4Cidr>,
    canned: bool,
}

impl Policy {
    /// A canned policy for exactly `url` (its query string included), valid
    /// until `expires`. Signed URLs then carry `Expires=` instead of the
    /// policy itself, and CloudFront rebuilds the policy from the URL.
    pub fn canned(url: &str, expires: u64) -> Result<Self, PolicyError> {
        let resource = checked_url(url)?;
        if resource.contains('*') {
            return Err(PolicyError::WildcardInCannedPolicy { url: resource });
        }
        Ok(Self { resource, expires, not_before: None, ip_range: None, canned: true })
    }

    /// Starts a custom policy for `resource` valid until `expires`. The
    /// resource may use the wildcards `*` (any run of characters, `/`
    /// included) and `?` (exactly one character), e.g.
    /// `https://d111111abcdef8.cloudfront.net/jobs/42/*`.
    pub fn custom(resource: &str, expires: u64) -> CustomPolicyBuilder {
        CustomPolicyBuilder { resource: resource.to_owned(), expires, not_before: None, ip_range: None }
    }

    /// The (percent-encoded) URL or URL pattern this policy covers.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// `DateLessThan`: requests at or after this epoch second are refused.
    pub fn expires(&self) -> u64 {
        self.expires
    }

    /// `DateGreaterThan`: requests at or before this epoch second are refused.
    pub fn not_before(&self) -> Option<u64> {
        self.not_before
    }

    /// `IpAddress`: the only client addresses allowed.
    pub fn ip_range(&self) -> Option<Ipv4Cidr> {
        self.ip_range
    }

    /// Whether this is a canned policy (signed URLs carry `Expires=`) rather
    /// than a custom one (they carry `Policy=`).
    pub fn is_canned(&self) -> bool {
        self.canned
    }

    /// Whether a request for `url` (without signing parameters) is covered
    /// by the resource: the exact URL for a canned policy, a wildcard match
    /// for a custom one. `url` is percent-encoded first, like the resource.
    pub fn covers(&self, url: &str) -> bool {
        let url = percent_encode_url(url);
        if self.canned {
            url == self.resource
        } else {
            wildcard_match(&self.resource, &url)
        }
    }

    /// The policy document CloudFront signs, without whitespace and with keys
    /// in the order AWS's own signers use (`Resource`, `Condition`;
    /// `DateLessThan`, `DateGreaterThan`, `IpAddress`). For a canned policy this
    /// is byte for byte the document CloudFront rebuilds from the URL.
    pub fn to_json(&self) -> String {
        // Percent-encoding left no '"', '\\' or control character in the resource,
        // so it needs no JSON escaping and cannot break out of its string.
        debug_assert!(!self.resource.contains(['"', '\\']) && !self.resource.contains(char::is_control));
        let mut json = format!(
            r#"{{"Statement":[{{"Resource":"{}","Condition":{{"DateLessThan":{{"AWS:EpochTime":{}}}"#,
            self.resource, self.expires
        );
        if let Some(not_before) = self.not_before {
            json.push_str(&format!(r#","DateGreaterThan":{{"AWS:EpochTime":{not_before}}}"#));
        }
        if let Some(range) = self.ip_range {
            json.push_str(&format!(r#","IpAddress":{{"AWS:SourceIp":"{range}"}}"#));
        }
        json.push_str("}}]}");
        json
    }

    /// Reads a custom policy document as received in a request. Whitespace and
    /// key order are free, as in CloudFront; unknown keys are refused. A
    /// statement without `Resource` covers every URL, as in CloudFront.
    pub(crate) fn from_json(json: &[u8]) -> Result<Self, String> {
        let value: Value = serde_json::from_slice(json).map_err(|e| format!("the policy is not JSON: {e}"))?;
        let root = object(&value, "the policy")?;
        only_keys(root, "the policy", &["Statement"])?;
        let statements = root.get("Statement").and_then(Value::as_array).ok_or("the policy has no Statement list")?;
        let [statement] = statements.as_slice() else {
            return Err(format!("the policy has {} statements; CloudFront takes exactly one", statements.len()));
        };
        let statement = object(statement, "the statement")?;
        only_keys(statement, "the statement", &["Resource", "Condition"])?;
        let resource = match statement.get("Resource") {
            None => "*".to_owned(),
            Some(Value::String(resource)) => resource.clone(),
            Some(_) => return Err("the policy's Resource is not a string".into()),
        };
        let condition = object(statement.get("Condition").ok_or("the policy has no Condition")?, "the Condition")?;
        only_keys(condition, "the Condition", &["DateLessThan", "DateGreaterThan", "IpAddress"])?;
        let expires = epoch_time(condition.get("DateLessThan").ok_or("the policy has no DateLessThan (expiry)")?)?;
        let not_before = condition.get("DateGreaterThan").map(epoch_time).transpose()?;
        let ip_range = condition
            .get("IpAddress")
            .map(|value| {
                let condition = object(value, "IpAddress")?;
                only_keys(condition, "IpAddress", &["AWS:SourceIp"])?;
                let range =
                    condition.get("AWS:SourceIp").and_then(Value::as_str).ok_or("IpAddress has no AWS:SourceIp")?;
                range.parse::<Ipv4Cidr>().map_err(|e| e.to_string())
            })
            .transpose()?;
        Ok(Self { resource, expires, not_before, ip_range, canned: false })
    }
}

/// A custom policy under construction; see [`Policy::custom`].
#[derive(Debug, Clone)]
#[must_use = "call .build() to get the Policy"]
pub struct CustomPolicyBuilder {
    resource: String,
    expires: u64,
    not_before: Option<u64>,
    ip_range: Option<Ipv4Cidr>,
}

impl CustomPolicyBuilder {
    /// Refuse requests at or before this epoch second (`DateGreaterThan`).
    pub fn not_before(mut self, epoch_seconds: u64) -> Self {
        self.not_before = Some(epoch_seconds);
        self
    }

    /// Allow only clients in this IPv4 range (`IpAddress`).
    pub fn ip_range(mut self, range: Ipv4Cidr) -> Self {
        self.ip_range = Some(range);
        self
    }

    pub fn build(self) -> Result<Policy, PolicyError> {
        let resource = if self.resource.contains('*') {
            // Wildcards may stand anywhere (even in `http*://`), so such a
            // resource is only encoded and checked for what can never match.
            let resource = percent_encode_url(&self.resource);
            if resource.contains('#') {
                return Err(PolicyError::Fragment { url: resource });
            }
            resource
        } else {
            checked_url(&self.resource)?
        };
        if let Some(not_before) = self.not_before {
            if not_before >= self.expires {
                return Err(PolicyError::ActiveAfterExpiration { not_before, expires: self.expires });
            }
        }
        Ok(Policy {
            resource,
            expires: self.expires,
            not_before: self.not_before,
            ip_range: self.ip_range,
            canned: false,
        })
    }
}

/// Percent-encodes `url` and checks that it can be signed: an absolute http(s)
/// URL with an ASCII host, no fragment and no CloudFront signing parameters.
pub(crate) fn checked_url(url: &str) -> Result<String, PolicyError> {
    let encoded = percent_encode_url(url);
    if encoded.is_empty() {
        return Err(PolicyError::EmptyResource);
    }
    if encoded.contains('#') {
        return Err(PolicyError::Fragment { url: encoded });
    }
    let lower = encoded.get(..8).unwrap_or(&encoded).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &encoded[8..]
    } else if lower.starts_with("http://") {
        &encoded[7..]
    } else {
        return Err(PolicyError::NotAnHttpUrl { url: encoded });
    };
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.is_empty() || host.starts_with(':') {
        return Err(PolicyError::NotAnHttpUrl { url: encoded });
    }
    if host.contains('%') {
        return Err(PolicyError::InvalidHost { url: encoded });
    }
    if let Some((_, query)) = encoded.split_once('?') {
        for pair in query.split('&') {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            if SIGNING_PARAMS.contains(&name) {
                return Err(PolicyError::AlreadySigned { url: encoded.clone(), param: name.to_owned() });
            }
        }
    }
    Ok(encoded)
}

/// CloudFront's resource matching: `*` matches any run of characters (none,
/// or many, `/` included), `?` exactly one character; everything else,
/// dots included, matches only itself.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last '*' was, and how much text it has swallowed so far.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || (pattern[p] != '*' && pattern[p] == text[t])) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, swallowed)) = backtrack {
            // Let the last '*' swallow one more character and retry.
            backtrack = Some((star, swallowed + 1));
            p = star + 1;
            t = swallowed + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| format!("{what} is not a JSON object"))
}

fn only_keys(object: &Map<String, Value>, what: &str, allowed: &[&str]) -> Result<(), String> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(format!("{what} has the unsupported key {key:?}")),
        None => Ok(()),
    }
}

fn epoch_time(value: &Value) -> Result<u64, String> {
    let condition = object(value, "a date condition")?;
    only_keys(condition, "a date condition", &["AWS:EpochTime"])?;
    condition
        .get("AWS:EpochTime")
        .and_then(Value::as_u64)
        .ok_or_else(|| "AWS:EpochTime must be a whole number of seconds".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "https://d111111abcdef8.cloudfront.net";

    #[test]
    fn canned_policy_json_is_exactly_awss_format() {
        let policy = Policy::canned(&format!("{HOST}/image.jpg"), 1767290400).unwrap();
        assert!(policy.is_canned());
        assert_eq!(
            policy.to_json(),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/image.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}"#
        );
    }

    #[test]
    fn custom_policy_json_orders_conditions_like_aws() {
        let policy = Policy::custom(&format!("{HOST}/jobs/*"), 200)
            .not_before(100)
            .ip_range("10.0.0.0/8".parse().unwrap())
            .build()
            .unwrap();
        assert!(!policy.is_canned());
        assert_eq!(
            policy.to_json(),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/jobs/*","Condition":{"DateLessThan":{"AWS:EpochTime":200},"DateGreaterThan":{"AWS:EpochTime":100},"IpAddress":{"AWS:SourceIp":"10.0.0.0/8"}}}]}"#
        );
        assert_eq!(Policy::from_json(policy.to_json().as_bytes()).unwrap(), policy);
    }

    #[test]
    fn resources_are_percent_encoded_once() {
        let policy = Policy::canned(&format!("{HOST}/My Clip é.mp4"), 1).unwrap();
        assert_eq!(policy.resource(), format!("{HOST}/My%20Clip%20%C3%A9.mp4"));
        let again = Policy::canned(policy.resource(), 1).unwrap();
        assert_eq!(again.resource(), policy.resource());
        assert!(policy.covers(&format!("{HOST}/My Clip é.mp4")));
        assert!(policy.covers(&format!("{HOST}/My%20Clip%20%C3%A9.mp4")));
    }

    #[test]
    fn quotes_cannot_inject_json() {
        let policy = Policy::canned(r#"https://example.com/file","Resource":"x","x":""#, 1).unwrap();
        let json: Value = serde_json::from_str(&policy.to_json()).unwrap();
        assert_eq!(json["Statement"][0]["Resource"], "https://example.com/file%22,%22Resource%22:%22x%22,%22x%22:%22");
        assert_eq!(json["Statement"][0].as_object().unwrap().len(), 2);
    }

    #[test]
    fn bad_resources_are_refused_with_reasons() {
        assert_eq!(Policy::canned("", 1), Err(PolicyError::EmptyResource));
        assert!(matches!(Policy::canned("/relative/path.mp4", 1), Err(PolicyError::NotAnHttpUrl { .. })));
        assert!(matches!(Policy::canned("ftp://h/a", 1), Err(PolicyError::NotAnHttpUrl { .. })));
        assert!(matches!(Policy::canned("https:///a", 1), Err(PolicyError::NotAnHttpUrl { .. })));
        assert!(matches!(Policy::canned("https://bücher.example/a", 1), Err(PolicyError::InvalidHost { .. })));
        assert!(matches!(Policy::canned(&format!("{HOST}/a.mp4#t=10"), 1), Err(PolicyError::Fragment { .. })));
        assert!(matches!(Policy::canned(&format!("{HOST}/*"), 1), Err(PolicyError::WildcardInCannedPolicy { .. })));
        let signed = Policy::canned(&format!("{HOST}/a.mp4?x=1&Signature=abc"), 1);
        assert!(matches!(signed, Err(PolicyError::AlreadySigned { ref param, .. }) if param == "Signature"));
        assert!(matches!(Policy::custom(&format!("{HOST}/*#x"), 1).build(), Err(PolicyError::Fragment { .. })));
        let err = Policy::custom(&format!("{HOST}/a"), 100).not_before(100).build().unwrap_err();
        assert_eq!(err, PolicyError::ActiveAfterExpiration { not_before: 100, expires: 100 });
        let message = err.to_string();
        assert!(message.contains("active") && message.contains("before") && message.contains("expiration"));
        // Wildcards may stand anywhere in a custom resource.
        assert!(Policy::custom("http*://d111111abcdef8.cloudfront.net/a", 1).build().is_ok());
    }

    #[test]
    fn ip_ranges_parse_ipv4_only() {
        let single: Ipv4Cidr = "192.0.2.7".parse().unwrap();
        assert_eq!(single.to_string(), "192.0.2.7/32");
        assert_eq!("192.168.0.0/24".parse::<Ipv4Cidr>().unwrap().to_string(), "192.168.0.0/24");
        for bad in [
            "",
            "192.168.0.0/33",
            "192.168.0.0/",
            "192.168.0.0/+8",
            "192.168.0/24",
            "a.b.c.d",
            "192.168.0.0/24\",\"IpAddress\":{\"AWS:SourceIp\":\"0.0.0.0/0",
        ] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad:?}");
        }
        let v6 = "2001:db8::/32".parse::<Ipv4Cidr>().unwrap_err().to_string();
        assert!(v6.contains("IPv4 only"), "{v6}");
    }

    #[test]
    fn ip_ranges_contain_the_right_addresses() {
        let range: Ipv4Cidr = "192.168.1.77/24".parse().unwrap();
        assert!(range.contains("192.168.1.0".parse().unwrap()));
        assert!(range.contains("192.168.1.255".parse().unwrap()));
        assert!(!range.contains("192.168.2.1".parse().unwrap()));
        let everyone: Ipv4Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(everyone.contains("203.0.113.9".parse().unwrap()));
        let one = Ipv4Cidr::from(Ipv4Addr::new(10, 1, 2, 3));
        assert!(one.contains(Ipv4Addr::new(10, 1, 2, 3)));
        assert!(!one.contains(Ipv4Addr::new(10, 1, 2, 4)));
    }

    #[test]
    fn wildcards_star_and_question_mark() {
        assert!(wildcard_match("https://h/jobs/A/*", "https://h/jobs/A/720p/seg_001.ts"));
        assert!(wildcard_match("https://h/jobs/A/*", "https://h/jobs/A/"));
        assert!(!wildcard_match("https://h/jobs/A/*", "https://h/jobs/B/master.m3u8"));
        assert!(!wildcard_match("https://h/jobs/A/*", "https://h/jobs/AB/master.m3u8"));
        assert!(wildcard_match("https://h/seg_00?.ts", "https://h/seg_007.ts"));
        assert!(!wildcard_match("https://h/seg_00?.ts", "https://h/seg_0007.ts"));
        assert!(!wildcard_match("https://h/seg_00?.ts", "https://h/seg_00.ts"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("https://h/*.m3u8", "https://h/a/b/c.m3u8"));
        assert!(wildcard_match("https://h/*/x*y", "https://h/1/x2/x3y"));
        assert!(!wildcard_match("https://h/*/x*y", "https://h/1/x2/x3y4"));
        assert!(wildcard_match("http*://h/a", "https://h/a"));
        // '?' is one character, even a non-ASCII one.
        assert!(wildcard_match("https://h/?.ts", "https://h/é.ts"));
    }

    #[test]
    fn dots_and_other_characters_match_only_themselves() {
        assert!(!wildcard_match("https://h/a.mp4", "https://h/aXmp4"));
        assert!(!wildcard_match("https://h/a.mp4", "https://h/a.mp4x"));
        assert!(!wildcard_match("https://h/a+b", "https://h/aab"));
        assert!(wildcard_match("https://h/a.mp4", "https://h/a.mp4"));
    }

    #[test]
    fn covers_checks_canned_exactly_and_custom_by_pattern() {
        let canned = Policy::canned(&format!("{HOST}/a.mp4?size=large"), 1).unwrap();
        assert!(canned.covers(&format!("{HOST}/a.mp4?size=large")));
        assert!(!canned.covers(&format!("{HOST}/a.mp4")));
        let custom = Policy::custom(&format!("{HOST}/jobs/A/*"), 1).build().unwrap();
        assert!(custom.covers(&format!("{HOST}/jobs/A/720p/seg 1.ts")));
        assert!(!custom.covers(&format!("{HOST}/jobs/B/master.m3u8")));
    }

    #[test]
    fn received_policies_parse_leniently_but_refuse_unknown_keys() {
        let spaced = br#"{ "Statement": [ { "Condition": { "IpAddress": {"AWS:SourceIp": "10.0.0.0/8"},
            "DateLessThan": {"AWS:EpochTime": 20} }, "Resource": "https://h/*" } ] }"#;
        let policy = Policy::from_json(spaced).unwrap();
        assert_eq!((policy.resource(), policy.expires(), policy.not_before()), ("https://h/*", 20, None));
        assert_eq!(policy.ip_range().unwrap().to_string(), "10.0.0.0/8");
        let no_resource = Policy::from_json(br#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}"#);
        assert_eq!(no_resource.unwrap().resource(), "*");
        for bad in [
            &br#"not json"#[..],
            br#"[]"#,
            br#"{"Statement":[]}"#,
            br#"{"Statement":[{"Resource":"x","Condition":{}}]}"#,
            br#"{"Statement":[{"Resource":"x","Condition":{"DateLessThan":{"AWS:EpochTime":"5"}}}]}"#,
            br#"{"Statement":[{"Resource":"x","Condition":{"DateLessThan":{"AWS:EpochTime":-5}}}]}"#,
            br#"{"Statement":[{"Resource":"x","Effect":"Allow","Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}"#,
            br#"{"Statement":[{"Resource":"x","Condition":{"DateLessThan":{"AWS:EpochTime":5},"StringEquals":{}}}]}"#,
            br#"{"Statement":[{"Resource":"x","Condition":{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"::1/128"}}}]}"#,
        ] {
            assert!(Policy::from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
