//! Sign → verify round trips through `streamdrop_core::signing`, the denials
//! the local edge must give (CloudFront's rules), and key loading.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Instant;

use streamdrop_core::signing::{
    parse_cookie_header, query_string, sign_url, signed_cookies, verify_request, Denied, HashAlgorithm, KeyAlgorithm,
    KeyError, Policy, PrivateKey, PublicKey, PublicKeySet, SigningKey,
};

const EDGE: &str = "http://127.0.0.1:8443";
const NOW: u64 = 1_800_000_000;

fn read(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cloudfront").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// AWS's RSA test key (fast to load; generating RSA keys is slow in debug builds).
fn rsa_key(id: &str, hash: HashAlgorithm) -> SigningKey {
    SigningKey::from_pem(id, &read("test-rsa-key.pem"), hash).unwrap()
}

fn ecdsa_key(id: &str) -> SigningKey {
    SigningKey::new(id, PrivateKey::generate_ecdsa_p256().unwrap(), HashAlgorithm::Sha256).unwrap()
}

/// One key of each kind the signer supports.
fn all_keys() -> Vec<SigningKey> {
    vec![rsa_key("KRSA1", HashAlgorithm::Sha1), rsa_key("KRSA256", HashAlgorithm::Sha256), ecdsa_key("KECDSA")]
}

fn trusted(keys: &[SigningKey]) -> PublicKeySet {
    let mut set = PublicKeySet::new();
    for key in keys {
        set.insert(key.key_pair_id(), key.public_key()).unwrap();
    }
    set
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

const ANYONE: &str = "203.0.113.5";

/// `url` with the value of query parameter `name` replaced by `new`.
fn replace_param(url: &str, name: &str, new: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((n, _)) if n == name => format!("{n}={new}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn param<'a>(url: &'a str, name: &str) -> &'a str {
    let query = url.split_once('?').map_or(url, |(_, query)| query);
    query.split('&').find_map(|pair| pair.strip_prefix(&format!("{name}="))).unwrap()
}

/// A different character of CloudFront's base64 alphabet at position `at`.
fn flip_char(text: &str, at: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[test]
fn canned_urls_round_trip_for_every_algorithm() {
    let keys = all_keys();
    let set = trusted(&keys);
    for key in &keys {
        let policy = Policy::canned(&format!("{EDGE}/jobs/A/master.m3u8"), NOW + 3600).unwrap();
        let url = sign_url(&format!("{EDGE}/jobs/A/master.m3u8"), &policy, key).unwrap();
        let url = url.as_str();
        assert!(url.starts_with(&format!("{EDGE}/jobs/A/master.m3u8?Expires={}&Signature=", NOW + 3600)), "{url}");
        assert_eq!(url.contains("&Hash-Algorithm=SHA256"), key.hash_algorithm() == HashAlgorithm::Sha256, "{url}");
        assert_eq!(verify_request(url, &[], ip(ANYONE), NOW, &set), Ok(()), "{key:?}");
        assert_eq!(verify_request(url, &[], ip(ANYONE), NOW + 3599, &set), Ok(()), "{key:?}");
        // Expired: DateLessThan means the expiry second itself is refused.
        assert_eq!(
            verify_request(url, &[], ip(ANYONE), NOW + 3600, &set),
            Err(Denied::Expired { expired_at: NOW + 3600 }),
            "{key:?}"
        );
    }
}

#[test]
fn custom_urls_round_trip_for_every_algorithm() {
    let keys = all_keys();
    let set = trusted(&keys);
    for key in &keys {
        let policy = Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 600)
            .not_before(NOW - 10)
            .ip_range("10.0.0.0/8".parse().unwrap())
            .build()
            .unwrap();
        let url = sign_url(&format!("{EDGE}/jobs/A/720p/seg_001.ts"), &policy, key).unwrap();
        assert!(url.as_str().contains("?Policy="), "{url}");
        assert_eq!(verify_request(url.as_str(), &[], ip("10.1.2.3"), NOW, &set), Ok(()), "{key:?}");
        assert_eq!(
            verify_request(url.as_str(), &[], ip("10.1.2.3"), NOW + 600, &set),
            Err(Denied::Expired { expired_at: NOW + 600 })
        );
    }
}

#[test]
fn one_signed_query_serves_every_uri_of_a_job_and_no_other_job() {
    for key in all_keys() {
        let set = trusted(std::slice::from_ref(&key));
        let policy = Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 600).build().unwrap();
        let query = query_string(&policy, &key).unwrap();
        for uri in ["master.m3u8", "720p/index.m3u8", "720p/seg_00001.ts", "thumbs/poster.jpg?v=2"] {
            let url = query.append_to(&format!("{EDGE}/jobs/A/{uri}"));
            assert_eq!(verify_request(&url, &[], ip(ANYONE), NOW, &set), Ok(()), "{url}");
        }
        // Job A's signature does not open job B, nor a job whose ID merely starts with A.
        for other in ["jobs/B/master.m3u8", "jobs/AB/master.m3u8", "jobs/master.m3u8"] {
            let url = query.append_to(&format!("{EDGE}/{other}"));
            assert_eq!(
                verify_request(&url, &[], ip(ANYONE), NOW, &set),
                Err(Denied::ResourceMismatch { resource: format!("{EDGE}/jobs/A/*"), url: format!("{EDGE}/{other}") }),
            );
        }
    }
}

#[test]
fn signed_cookies_round_trip() {
    for key in all_keys() {
        let set = trusted(std::slice::from_ref(&key));
        let canned = Policy::canned(&format!("{EDGE}/a.mp4"), NOW + 60).unwrap();
        let cookies = signed_cookies(&canned, &key).unwrap();
        assert_eq!(cookies[0].0, "CloudFront-Expires");
        let header = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        let header = format!("theme=dark; {header}");
        let pairs = parse_cookie_header(&header);
        assert_eq!(verify_request(&format!("{EDGE}/a.mp4"), &pairs, ip(ANYONE), NOW, &set), Ok(()));
        // A canned policy is rebuilt from the requested URL: another file fails.
        assert_eq!(verify_request(&format!("{EDGE}/b.mp4"), &pairs, ip(ANYONE), NOW, &set), Err(Denied::BadSignature));

        let custom = Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 60).build().unwrap();
        let cookies = signed_cookies(&custom, &key).unwrap();
        let names: Vec<&str> = cookies.iter().map(|(n, _)| *n).collect();
        let mut expected = vec!["CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"];
        if key.hash_algorithm() == HashAlgorithm::Sha256 {
            expected.push("CloudFront-Hash-Algorithm");
        }
        assert_eq!(names, expected);
        let pairs: Vec<(&str, &str)> = cookies.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(verify_request(&format!("{EDGE}/jobs/A/x.ts"), &pairs, ip(ANYONE), NOW, &set), Ok(()));
        assert!(matches!(
            verify_request(&format!("{EDGE}/jobs/B/x.ts"), &pairs, ip(ANYONE), NOW, &set),
            Err(Denied::ResourceMismatch { .. })
        ));
        assert_eq!(
            verify_request(&format!("{EDGE}/jobs/A/x.ts"), &pairs, ip(ANYONE), NOW + 60, &set),
            Err(Denied::Expired { expired_at: NOW + 60 })
        );
    }
}

#[test]
fn tampered_signatures_are_refused() {
    for key in all_keys() {
        let set = trusted(std::slice::from_ref(&key));
        for (policy, url) in [
            (Policy::canned(&format!("{EDGE}/a.mp4"), NOW + 60).unwrap(), format!("{EDGE}/a.mp4")),
            (Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 60).build().unwrap(), format!("{EDGE}/jobs/A/a.mp4")),
        ] {
            let url = sign_url(&url, &policy, &key).unwrap();
            let signature = param(url.as_str(), "Signature");
            // Characters that carry only signature bits (the last ones may carry padding bits).
            for at in [0, signature.len() / 3, signature.len() / 2] {
                let tampered = replace_param(url.as_str(), "Signature", &flip_char(signature, at));
                assert_eq!(
                    verify_request(&tampered, &[], ip(ANYONE), NOW, &set),
                    Err(Denied::BadSignature),
                    "{tampered}"
                );
            }
        }
    }
}

#[test]
fn tampered_urls_and_policies_are_refused() {
    for key in all_keys() {
        let set = trusted(std::slice::from_ref(&key));
        let policy = Policy::canned(&format!("{EDGE}/a.mp4?size=large"), NOW + 60).unwrap();
        let url = sign_url(&format!("{EDGE}/a.mp4?size=large"), &policy, &key).unwrap().into_string();
        assert_eq!(verify_request(&url, &[], ip(ANYONE), NOW, &set), Ok(()));
        let longer = replace_param(&url, "Expires", &(NOW + 86_400).to_string());
        let other_file = url.replace("/a.mp4?", "/b.mp4?");
        let other_param = url.replace("size=large", "size=small");
        let extra_param = url.replace("size=large", "size=large&admin=1");
        for tampered in [longer, other_file, other_param, extra_param] {
            assert_eq!(verify_request(&tampered, &[], ip(ANYONE), NOW, &set), Err(Denied::BadSignature), "{tampered}");
        }

        // A policy swapped for a broader one keeps the old signature: refused.
        let narrow = Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 60).build().unwrap();
        let broad = Policy::custom(&format!("{EDGE}/*"), NOW + 86_400).build().unwrap();
        let url = sign_url(&format!("{EDGE}/jobs/A/x.ts"), &narrow, &key).unwrap().into_string();
        let broad_query = query_string(&broad, &key).unwrap();
        let swapped = replace_param(&url, "Policy", param(broad_query.as_str(), "Policy"));
        assert_eq!(verify_request(&swapped, &[], ip(ANYONE), NOW, &set), Err(Denied::BadSignature));
    }

    // Dropping Hash-Algorithm=SHA256 makes the verifier use SHA-1: refused.
    let key = rsa_key("KRSA256", HashAlgorithm::Sha256);
    let set = trusted(std::slice::from_ref(&key));
    let policy = Policy::canned(&format!("{EDGE}/a.mp4"), NOW + 60).unwrap();
    let url = sign_url(&format!("{EDGE}/a.mp4"), &policy, &key).unwrap().into_string();
    let stripped = url.replace("&Hash-Algorithm=SHA256", "");
    assert_eq!(verify_request(&stripped, &[], ip(ANYONE), NOW, &set), Err(Denied::BadSignature));
}

#[test]
fn not_yet_valid_until_after_date_greater_than() {
    for key in all_keys() {
        let set = trusted(std::slice::from_ref(&key));
        let policy = Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 1000).not_before(NOW + 100).build().unwrap();
        let url = sign_url(&format!("{EDGE}/jobs/A/master.m3u8"), &policy, &key).unwrap().into_string();
        for early in [NOW, NOW + 100] {
            assert_eq!(
                verify_request(&url, &[], ip(ANYONE), early, &set),
                Err(Denied::NotYetValid { valid_after: NOW + 100 })
            );
        }
        assert_eq!(verify_request(&url, &[], ip(ANYONE), NOW + 101, &set), Ok(()));
    }
}

#[test]
fn clients_outside_the_ip_range_are_refused() {
    for key in all_keys() {
        let set = trusted(std::slice::from_ref(&key));
        let range = "192.168.0.0/24".parse().unwrap();
        let policy = Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 60).ip_range(range).build().unwrap();
        let url = sign_url(&format!("{EDGE}/jobs/A/master.m3u8"), &policy, &key).unwrap().into_string();
        for inside in ["192.168.0.9", "192.168.0.255", "::ffff:192.168.0.9"] {
            assert_eq!(verify_request(&url, &[], ip(inside), NOW, &set), Ok(()), "{inside}");
        }
        for outside in ["192.168.1.9", "10.0.0.1", "2001:db8::1", "::1"] {
            assert_eq!(
                verify_request(&url, &[], ip(outside), NOW, &set),
                Err(Denied::IpNotAllowed { client: ip(outside), allowed: range }),
                "{outside}"
            );
        }
    }
}

#[test]
fn unknown_and_replaced_keys_are_refused() {
    let signer = ecdsa_key("KOTHER");
    let policy = Policy::canned(&format!("{EDGE}/a.mp4"), NOW + 60).unwrap();
    let url = sign_url(&format!("{EDGE}/a.mp4"), &policy, &signer).unwrap().into_string();
    let set = trusted(&all_keys());
    assert_eq!(verify_request(&url, &[], ip(ANYONE), NOW, &set), Err(Denied::UnknownKeyPairId("KOTHER".into())));
    // Same ID, another key (e.g. after a key rotation): the signature fails.
    let impostor = trusted(&[ecdsa_key("KOTHER")]);
    assert_eq!(verify_request(&url, &[], ip(ANYONE), NOW, &impostor), Err(Denied::BadSignature));
}

#[test]
fn malformed_requests_say_what_is_wrong() {
    let keys = all_keys();
    let set = trusted(&keys);
    let canned = Policy::canned(&format!("{EDGE}/a.mp4"), NOW + 60).unwrap();
    let rsa_url = sign_url(&format!("{EDGE}/a.mp4"), &canned, &keys[0]).unwrap().into_string();
    let ecdsa_url = sign_url(&format!("{EDGE}/a.mp4"), &canned, &keys[2]).unwrap().into_string();
    let custom = Policy::custom(&format!("{EDGE}/*"), NOW + 60).build().unwrap();
    let custom_url = sign_url(&format!("{EDGE}/a.mp4"), &custom, &keys[0]).unwrap().into_string();
    let cases = [
        (format!("{rsa_url}&Hash-Algorithm=MD5"), "Hash-Algorithm"),
        (replace_param(&rsa_url, "Expires", "soon"), "Expires"),
        (replace_param(&rsa_url, "Expires", "0001800000060"), "Expires"),
        (replace_param(&rsa_url, "Signature", "not+base64"), "Signature"),
        (replace_param(&custom_url, "Policy", "!!!"), "Policy"),
        (format!("{custom_url}&Expires=1"), "Expires and Policy"),
        (rsa_url.replace(&format!("Expires={}&", NOW + 60), ""), "Expires nor Policy"),
        (ecdsa_url.replace("&Hash-Algorithm=SHA256", ""), "SHA256"),
        (format!("{rsa_url}&Key-Pair-Id=KRSA1"), "more than once"),
    ];
    for (url, needle) in cases {
        match verify_request(&url, &[], ip(ANYONE), NOW, &set) {
            Err(Denied::Malformed(why)) => assert!(why.contains(needle), "{url}: {why}"),
            other => panic!("{url}: expected Malformed({needle}), got {other:?}"),
        }
    }
}

#[test]
fn percent_encoded_urls_verify_as_clients_send_them() {
    let key = rsa_key("KRSA1", HashAlgorithm::Sha1);
    let set = trusted(std::slice::from_ref(&key));
    let raw = format!("{EDGE}/jobs/A/Clip été 1.mp4");
    let encoded = format!("{EDGE}/jobs/A/Clip%20%C3%A9t%C3%A9%201.mp4");
    let from_raw = sign_url(&raw, &Policy::canned(&raw, NOW + 60).unwrap(), &key).unwrap();
    let from_encoded = sign_url(&encoded, &Policy::canned(&encoded, NOW + 60).unwrap(), &key).unwrap();
    // Encoding is applied once: raw and already-encoded input sign the same URL.
    assert_eq!(from_raw, from_encoded);
    assert!(from_raw.as_str().starts_with(&format!("{encoded}?Expires=")), "{from_raw}");
    assert_eq!(verify_request(from_raw.as_str(), &[], ip(ANYONE), NOW, &set), Ok(()));

    let wildcard = Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 60).build().unwrap();
    let url = sign_url(&raw, &wildcard, &key).unwrap();
    assert!(url.as_str().starts_with(&format!("{encoded}?Policy=")), "{url}");
    assert_eq!(verify_request(url.as_str(), &[], ip(ANYONE), NOW, &set), Ok(()));
}

#[test]
fn generated_rsa_2048_key_signs_and_round_trips_through_pem() {
    let started = Instant::now();
    let private = PrivateKey::generate_rsa_2048().unwrap();
    eprintln!("RSA-2048 generation took {:?}", started.elapsed());
    assert_eq!(private.algorithm(), KeyAlgorithm::Rsa { bits: 2048 });
    let key = SigningKey::new("KGENERATED", private, HashAlgorithm::Sha256).unwrap();

    let public_pem = key.public_key_pem();
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{public_pem}");
    let private_pem = key.private_key_pem();
    assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let debug = format!("{key:?}");
    assert!(debug.contains("<redacted>") && !debug.contains("MII"), "{debug}");

    // The PEM texts load back into the same key pair.
    let reloaded = SigningKey::from_pem("KGENERATED", &private_pem, HashAlgorithm::Sha256).unwrap();
    assert_eq!(reloaded.public_key(), key.public_key());
    let mut set = PublicKeySet::new();
    set.insert_pem("KGENERATED", &public_pem).unwrap();
    let policy = Policy::custom(&format!("{EDGE}/jobs/A/*"), NOW + 60).build().unwrap();
    let url = sign_url(&format!("{EDGE}/jobs/A/master.m3u8"), &policy, &reloaded).unwrap();
    assert_eq!(verify_request(url.as_str(), &[], ip(ANYONE), NOW, &set), Ok(()));
}

#[test]
fn keys_load_from_every_pem_format() {
    let rsa_pkcs8 = PrivateKey::from_pem(&read("test-rsa-key.pem")).unwrap();
    let rsa_pkcs1 = PrivateKey::from_pem(&read("test-rsa-key-pkcs1.pem")).unwrap();
    let rsa_public = PublicKey::from_pem(&read("test-rsa-key-public.pem")).unwrap();
    assert_eq!(rsa_pkcs8.algorithm(), KeyAlgorithm::Rsa { bits: 1024 });
    assert_eq!(rsa_pkcs8.public_key(), rsa_public);
    assert_eq!(rsa_pkcs1.public_key(), rsa_public);
    // Our PEM output is byte for byte OpenSSL's.
    assert_eq!(rsa_public.to_pem(), read("test-rsa-key-public.pem"));
    assert_eq!(*rsa_pkcs1.to_pkcs8_pem(), read("test-rsa-key.pem"));

    let ec_pkcs8 = PrivateKey::from_pem(&read("test-ecdsa-key.pem")).unwrap();
    let ec_sec1 = PrivateKey::from_pem(&read("test-ecdsa-key-sec1.pem")).unwrap();
    let ec_public = PublicKey::from_pem(&read("test-ecdsa-key-public.pem")).unwrap();
    assert_eq!(ec_sec1.algorithm(), KeyAlgorithm::EcdsaP256);
    assert_eq!(ec_pkcs8.public_key(), ec_public);
    assert_eq!(ec_sec1.public_key(), ec_public);
    assert_eq!(ec_public.to_pem(), read("test-ecdsa-key-public.pem"));

    // `openssl ecparam -genkey` output, with its EC PARAMETERS block first, and CRLF line ends.
    let with_params = format!(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
        read("test-ecdsa-key-sec1.pem")
    )
    .replace('\n', "\r\n");
    assert_eq!(PrivateKey::from_pem(&with_params).unwrap().public_key(), ec_public);
}

// Test keys made for this file with `openssl genpkey` (P-384 and Ed25519):
// valid keys of types CloudFront does not take.
const P384_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDsVJJCPDLCYeihmBhW
mXdeW1ZDxIHHBtR9NdYJ6rYFS6z38oYb5He5LFy3Z4MpGsShZANiAARZu0Q+ADlk
Oi2ZtvySwg/7w6Ekx1DWcAlNAxAGH0wcVfipkabY6PScZghpHQ1FlDCiSZx8Br2W
a7nbIwgqWgQQHHo8mYT26tAg5wyXT4l3sK/m1JLkM6SFsYPYL+Zy4t8=
-----END PRIVATE KEY-----
";
const P384_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEWbtEPgA5ZDotmbb8ksIP+8OhJMdQ1nAJ
TQMQBh9MHFX4qZGm2Oj0nGYIaR0NRZQwokmcfAa9lmu52yMIKloEEBx6PJmE9urQ
IOcMl0+Jd7Cv5tSS5DOkhbGD2C/mcuLf
-----END PUBLIC KEY-----
";
const ED25519_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIA5cc2NQXmQonVED2l+evtvxzOsINWl0R9xqjnujN3X9
-----END PRIVATE KEY-----
";

#[test]
fn unusable_keys_are_refused_with_what_to_do() {
    let err = |result: Result<PrivateKey, KeyError>| result.unwrap_err();
    let dsa = err(PrivateKey::from_pem(&read("test-dsa-key.pem")));
    assert!(matches!(&dsa, KeyError::UnsupportedKeyType { found } if found.contains("DSA")), "{dsa}");
    assert!(dsa.to_string().contains("RSA or ECDSA (P-256)"), "{dsa}");
    let ed = err(PrivateKey::from_pem(ED25519_KEY));
    assert!(matches!(&ed, KeyError::UnsupportedKeyType { found } if found.contains("Ed25519")), "{ed}");
    let p384 = err(PrivateKey::from_pem(P384_KEY));
    assert!(matches!(&p384, KeyError::UnsupportedCurve { curve } if curve.contains("P-384")), "{p384}");
    let p384_public = PublicKey::from_pem(P384_PUBLIC).unwrap_err();
    assert!(matches!(p384_public, KeyError::UnsupportedCurve { .. }), "{p384_public}");

    let public_as_private = err(PrivateKey::from_pem(&read("test-rsa-key-public.pem")));
    assert!(matches!(public_as_private, KeyError::NotAPrivateKey { .. }), "{public_as_private}");
    let private_as_public = PublicKey::from_pem(&read("test-rsa-key.pem")).unwrap_err();
    assert!(matches!(private_as_public, KeyError::NotAPublicKey { .. }), "{private_as_public}");
    assert!(private_as_public.to_string().contains("-pubout"), "{private_as_public}");

    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_eq!(err(PrivateKey::from_pem(encrypted)), KeyError::Encrypted);
    let legacy_encrypted = read("test-rsa-key-pkcs1.pem")
        .replace("KEY-----\n", "KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n");
    assert_eq!(err(PrivateKey::from_pem(&legacy_encrypted)), KeyError::Encrypted);
    assert_eq!(err(PrivateKey::from_pem("ssh-rsa AAAA...")), KeyError::NoPem);
    let truncated =
        read("test-rsa-key.pem").replacen("MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJd", "MIICdwIBADANBgkqhk", 1);
    assert!(matches!(err(PrivateKey::from_pem(&truncated)), KeyError::Invalid { .. }));

    let ecdsa_sha1 = SigningKey::from_pem("K1", &read("test-ecdsa-key.pem"), HashAlgorithm::Sha1).unwrap_err();
    assert_eq!(ecdsa_sha1, KeyError::EcdsaNeedsSha256);
    let bad_id = SigningKey::from_pem("K1&Signature=x", &read("test-rsa-key.pem"), HashAlgorithm::Sha1).unwrap_err();
    assert!(matches!(bad_id, KeyError::InvalidKeyPairId { .. }), "{bad_id}");
    assert!(PublicKeySet::new().insert_pem("", &read("test-rsa-key-public.pem")).is_err());
}
