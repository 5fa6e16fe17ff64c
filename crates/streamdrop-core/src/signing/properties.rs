//! Properties of the signer and verifier together: whatever URL or policy
//! the signer makes verifies, any one-byte change of what a link names or
//! carries does not, and no policy document (however malformed, once
//! validly signed) makes the verifier panic or cover what it does not name.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use proptest::prelude::*;

use super::encoding::cloudfront_base64;
use super::*;
use crate::testing::proptest_config;

const BASE: &str = "http://127.0.0.1:4000";
const NOW: u64 = 1_800_000_000;
const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::new("KPROP", PrivateKey::generate_ecdsa_p256().unwrap(), HashAlgorithm::Sha256).unwrap()
    })
}

fn keys() -> PublicKeySet {
    let mut keys = PublicKeySet::new();
    keys.insert("KPROP", key().public_key()).unwrap();
    keys
}

/// Path segments as people name files: spaces, punctuation, accents, CJK;
/// never the characters that end a path (`/ ? #`) or are wildcards (`*`).
fn segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._~!$&'()+,;=:@é漢-]{1,8}"
}

/// A URL on the edge, and the length of the prefix a wildcard policy names.
fn url_and_prefix() -> impl Strategy<Value = (String, usize, Option<String>)> {
    (prop::collection::vec(segment(), 1..5), any::<prop::sample::Index>(), prop::option::of("[a-z]{1,3}=[a-z0-9]{0,3}"))
        .prop_map(|(segments, cut, query)| {
            let folders = cut.index(segments.len());
            let prefix: String = segments[..folders].iter().map(|s| format!("{s}/")).collect();
            (format!("{BASE}/{}", segments.join("/")), BASE.len() + 1 + prefix.len(), query)
        })
}

/// What a client sends for `url` signed with `policy`: encoded as it must be on the wire.
fn signed(url: &str, policy: &Policy) -> String {
    sign_url(url, policy, key()).unwrap().as_str().to_owned()
}

fn verifies(request: &str) -> bool {
    verify::verify_request(request, &[], CLIENT, NOW, &keys()).is_ok()
}

/// `text` with the byte at `at` replaced by `by` (both ASCII, so it stays a string).
fn with_byte(text: &str, at: usize, by: u8) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    if !bytes[at].is_ascii() || bytes[at] == by {
        return None;
    }
    bytes[at] = by;
    String::from_utf8(bytes).ok()
}

proptest! {
    #![proptest_config(proptest_config(64))]

    #[test]
    fn every_url_the_signer_signs_verifies((url, _, query) in url_and_prefix(), life in 1u64..400 * 86_400) {
        let url = match query { Some(q) => format!("{url}?{q}"), None => url };
        let canned = Policy::canned(&url, NOW + life).unwrap();
        prop_assert!(verifies(&signed(&url, &canned)), "canned {url}");
        let custom = Policy::custom(&url, NOW + life).build().unwrap();
        prop_assert!(verifies(&signed(&url, &custom)), "custom {url}");
    }

    #[test]
    fn a_wildcard_covers_what_is_under_its_prefix_and_a_one_byte_change_there_breaks_it(
        (url, prefix_len, _) in url_and_prefix(),
        at in any::<prop::sample::Index>(),
        by in 0x21u8..0x7f,
    ) {
        let encoded = signing_encoded(&url);
        let prefix_len = encoded_prefix_len(&url, prefix_len);
        let resource = format!("{}*", &encoded[..prefix_len]);
        let policy = Policy::custom(&resource, NOW + 60).build().unwrap();
        let query = query_string(&policy, key()).unwrap();
        let request = query.append_to(&encoded);
        prop_assert!(verifies(&request), "{request}");
        // A change in the named prefix or in the signing parameters: refused.
        let signing_from = request.len() - query.as_str().len();
        let positions: Vec<usize> = (0..prefix_len).chain(signing_from..request.len()).collect();
        let at = positions[at.index(positions.len())];
        if let Some(changed) = with_byte(&request, at, by) {
            prop_assert!(!verifies(&changed), "changed byte {at} to {:?}: {changed}", by as char);
        }
    }

    #[test]
    fn a_one_byte_change_anywhere_in_a_canned_link_breaks_it(
        (url, _, query) in url_and_prefix(),
        at in any::<prop::sample::Index>(),
        by in 0x21u8..0x7f,
    ) {
        let url = match query { Some(q) => format!("{url}?{q}"), None => url };
        let request = signed(&url, &Policy::canned(&url, NOW + 60).unwrap());
        let at = at.index(request.len());
        if let Some(changed) = with_byte(&request, at, by) {
            prop_assert!(!verifies(&changed), "changed byte {at} to {:?}: {changed}", by as char);
        }
    }

    #[test]
    fn built_policies_read_back_as_built(
        resource in "[ -~]{0,40}",
        expires in 1u64..u32::MAX as u64,
        not_before in prop::option::of(0u64..1_000_000),
        range in prop::option::of((any::<u32>(), 0u8..=32)),
    ) {
        let mut builder = Policy::custom(&resource, expires);
        if let Some(not_before) = not_before {
            builder = builder.not_before(not_before);
        }
        if let Some((addr, prefix)) = range {
            let masked = if prefix == 0 { 0 } else { addr & (u32::MAX << (32 - prefix)) };
            builder = builder.ip_range(Ipv4Cidr::new(Ipv4Addr::from(masked), prefix).unwrap());
        }
        let Ok(policy) = builder.build() else { return Ok(()) };
        let read = Policy::from_json(policy.to_json().as_bytes()).unwrap();
        prop_assert_eq!(read, policy);
    }

    #[test]
    fn no_validly_signed_policy_document_panics_the_verifier_or_widens_it(
        document in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            policy_like_json().prop_map(String::into_bytes),
        ],
        path in segment(),
    ) {
        let signature = key().private_key().sign(&document, HashAlgorithm::Sha256).unwrap();
        let request = format!(
            "{BASE}/jobs/A/{}?Policy={}&Signature={}&Key-Pair-Id=KPROP&Hash-Algorithm=SHA256",
            signing_encoded(&path).trim_start_matches('/'),
            cloudfront_base64(&document),
            cloudfront_base64(&signature),
        );
        if verifies(&request) {
            // Only a document that names this URL (or everything) may open it.
            let policy = Policy::from_json(&document).expect("a policy that verified parses");
            prop_assert!(policy.covers(&request[..request.find('?').unwrap()]), "{}", String::from_utf8_lossy(&document));
        }
    }
}

/// JSON shaped like a policy, with values of every kind in every place.
fn policy_like_json() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("null".to_owned()),
        (0u64..u64::MAX).prop_map(|n| n.to_string()),
        Just("-1".to_owned()),
        Just("1e400".to_owned()),
        "\"[ -~]{0,12}\"",
        Just(format!("\"{BASE}/jobs/A/*\"")),
        Just("\"*\"".to_owned()),
        Just("\"127.0.0.1/33\"".to_owned()),
    ];
    (value.clone(), value.clone(), value).prop_map(|(resource, time, ip)| {
        format!(
            r#"{{"Statement":[{{"Resource":{resource},"Condition":{{"DateLessThan":{{"AWS:EpochTime":{time}}},"IpAddress":{{"AWS:SourceIp":{ip}}}}}}}]}}"#
        )
    })
}

/// A URL as the signer writes it on the wire.
fn signing_encoded(url: &str) -> String {
    percent_encode_url(url)
}

/// The length, once encoded, of the first `raw_len` bytes of `url`.
fn encoded_prefix_len(url: &str, raw_len: usize) -> usize {
    percent_encode_url(&url[..raw_len]).len()
}
