//! Cross-checks `streamdrop_core::signing` against the `openssl` command line,
//! an implementation that shares no code with ours: RSA signatures must be
//! identical to `openssl dgst -sha1|-sha256 -sign`, our ECDSA signatures must
//! pass `openssl dgst -sha256 -verify`, and OpenSSL's ECDSA signatures must
//! pass our verifier.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use streamdrop_core::signing::{
    query_string, verify_request, HashAlgorithm, Policy, PrivateKey, PublicKeySet, SigningKey,
};

const EDGE: &str = "https://d111111abcdef8.cloudfront.net";
const NOW: u64 = 1_800_000_000;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cloudfront").join(name)
}

/// Runs openssl, failing the test with its stderr (or with how to install it).
fn openssl(args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl").args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `openssl` ({e}): these tests need the OpenSSL command line (Debian: apt-get install openssl)"
        )
    });
    assert!(output.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// CloudFront's base64, written out here rather than taken from the code under test.
fn cloudfront_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('_');
            }
        }
    }
    out
}

fn param<'a>(query: &'a str, name: &str) -> &'a str {
    query.split('&').find_map(|pair| pair.strip_prefix(&format!("{name}="))).unwrap()
}

/// Policies worth comparing: canned, custom with every condition, and a
/// resource that needed percent-encoding.
fn policies() -> Vec<Policy> {
    vec![
        Policy::canned(&format!("{EDGE}/image.jpg?size=large"), NOW + 3600).unwrap(),
        Policy::custom(&format!("{EDGE}/jobs/42/*"), NOW + 3600)
            .not_before(NOW - 60)
            .ip_range("198.51.100.0/24".parse().unwrap())
            .build()
            .unwrap(),
        Policy::canned(&format!("{EDGE}/jobs/42/Clip été 1.mp4"), NOW + 3600).unwrap(),
    ]
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Our RSA signature of each policy equals OpenSSL's, for SHA-1 and SHA-256.
fn assert_rsa_matches_openssl(key: &SigningKey, key_file: &str, dir: &Path) {
    let digest = match key.hash_algorithm() {
        HashAlgorithm::Sha1 => "-sha1",
        HashAlgorithm::Sha256 => "-sha256",
    };
    for (i, policy) in policies().iter().enumerate() {
        let policy_file = write(dir, &format!("policy-{i}.json"), policy.to_json());
        let expected = cloudfront_base64(&openssl(&["dgst", digest, "-sign", key_file, &policy_file]));
        let query = query_string(policy, key).unwrap();
        assert_eq!(param(query.as_str(), "Signature"), expected, "{digest} {}", policy.to_json());
    }
}

#[test]
fn rsa_signatures_equal_openssl_dgst_sign() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = fixture("test-rsa-key.pem");
    let key_file = key_file.to_str().unwrap();
    for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
        let key = SigningKey::from_pem("K1TESTKEY", &std::fs::read_to_string(key_file).unwrap(), hash).unwrap();
        assert_rsa_matches_openssl(&key, key_file, dir.path());
    }
}

#[test]
fn generated_rsa_key_is_a_valid_openssl_key_and_signs_identically() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::new("KGEN", PrivateKey::generate_rsa_2048().unwrap(), HashAlgorithm::Sha1).unwrap();
    // The test writes the private key to a temporary file for openssl; the library never does.
    let key_file = write(dir.path(), "key.pem", key.private_key_pem().as_bytes());
    openssl(&["pkey", "-in", &key_file, "-check", "-noout"]);
    let public_file = write(dir.path(), "pub.pem", key.public_key_pem());
    let text = String::from_utf8(openssl(&["pkey", "-pubin", "-in", &public_file, "-text", "-noout"])).unwrap();
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    // OpenSSL derives the same public key from our private key.
    let derived = String::from_utf8(openssl(&["pkey", "-in", &key_file, "-pubout"])).unwrap();
    assert_eq!(derived, key.public_key_pem());
    assert_rsa_matches_openssl(&key, &key_file, dir.path());
}

/// Our ECDSA signatures, DER-decoded from the URL, pass `openssl dgst -verify`.
fn assert_openssl_verifies_ecdsa(key: &SigningKey, dir: &Path) {
    let public_file = write(dir, "ec-pub.pem", key.public_key_pem());
    for (i, policy) in policies().iter().enumerate() {
        let query = query_string(policy, key).unwrap();
        assert!(query.as_str().ends_with("&Hash-Algorithm=SHA256"), "{query}");
        let signature = cloudfront_base64_decode(param(query.as_str(), "Signature"));
        assert_eq!(signature[0], 0x30, "an ECDSA signature for CloudFront is a DER SEQUENCE");
        let signature_file = write(dir, &format!("sig-{i}.der"), &signature);
        let policy_file = write(dir, &format!("ec-policy-{i}.json"), policy.to_json());
        let out = openssl(&["dgst", "-sha256", "-verify", &public_file, "-signature", &signature_file, &policy_file]);
        assert_eq!(String::from_utf8_lossy(&out).trim(), "Verified OK");
        // And a signature of another document does not verify.
        let other_file = write(dir, "other.json", policy.to_json().replace("3600", "3601"));
        let status = Command::new("openssl")
            .args(["dgst", "-sha256", "-verify", &public_file, "-signature", &signature_file, &other_file])
            .output()
            .unwrap()
            .status;
        assert!(!status.success(), "openssl accepted a signature of another policy");
    }
}

#[test]
fn ecdsa_signatures_verify_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let aws_key = std::fs::read_to_string(fixture("test-ecdsa-key.pem")).unwrap();
    let aws_key = SigningKey::from_pem("K2ECDSATEST", &aws_key, HashAlgorithm::Sha256).unwrap();
    assert_openssl_verifies_ecdsa(&aws_key, dir.path());
    let generated = SigningKey::new("KGEN", PrivateKey::generate_ecdsa_p256().unwrap(), HashAlgorithm::Sha256).unwrap();
    assert_openssl_verifies_ecdsa(&generated, dir.path());
}

#[test]
fn openssl_ecdsa_and_rsa_signatures_pass_our_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = PublicKeySet::new();
    keys.insert_pem("KEC", &std::fs::read_to_string(fixture("test-ecdsa-key-public.pem")).unwrap()).unwrap();
    keys.insert_pem("KRSA", &std::fs::read_to_string(fixture("test-rsa-key-public.pem")).unwrap()).unwrap();
    let client: IpAddr = "198.51.100.7".parse().unwrap();
    let cases = [
        ("KEC", "-sha256", "test-ecdsa-key.pem", "&Hash-Algorithm=SHA256"),
        ("KRSA", "-sha256", "test-rsa-key.pem", "&Hash-Algorithm=SHA256"),
        ("KRSA", "-sha1", "test-rsa-key.pem", ""),
    ];
    for (id, digest, key_file, hash_param) in cases {
        let key_file = fixture(key_file);
        for (i, policy) in policies().iter().enumerate() {
            let policy_file = write(dir.path(), &format!("policy-{i}.json"), policy.to_json());
            let signature = openssl(&["dgst", digest, "-sign", key_file.to_str().unwrap(), &policy_file]);
            let signed_part = if policy.is_canned() {
                format!("Expires={}", policy.expires())
            } else {
                format!("Policy={}", cloudfront_base64(policy.to_json().as_bytes()))
            };
            let query =
                format!("{signed_part}&Signature={}&Key-Pair-Id={id}{hash_param}", cloudfront_base64(&signature));
            let url = if policy.is_canned() {
                policy.resource().to_owned()
            } else {
                policy.resource().replace('*', "720p/seg_001.ts")
            };
            let separator = if url.contains('?') { '&' } else { '?' };
            let request = format!("{url}{separator}{query}");
            assert_eq!(verify_request(&request, &[], client, NOW, &keys), Ok(()), "{request}");
        }
    }
}

fn cloudfront_base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~";
    let (mut bits, mut count, mut out) = (0u32, 0, Vec::new());
    for c in text.bytes().filter(|&c| c != b'_') {
        bits = bits << 6 | ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}
