//! Replays AWS's public CloudFront signing test vectors (from the AWS CLI
//! repository, see tests/data/cloudfront/README.md) through
//! `streamdrop_core::signing`: every RSA case byte for byte, every ECDSA case
//! by verification against AWS's public key, every error case by the error
//! our API gives (or by the type system, where the mistake cannot be written).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::Value;
use streamdrop_core::signing::{
    query_string, sign_url, signed_cookies, verify_request, HashAlgorithm, Ipv4Cidr, KeyError, Policy, PolicyError,
    PublicKeySet, SigningKey,
};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cloudfront")
}

fn read(name: &str) -> String {
    let path = data_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn cases(file: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(&read(file)).unwrap().as_array().unwrap().clone()
}

/// The public keys AWS's test harness verifies with, by key pair ID.
fn aws_public_keys() -> PublicKeySet {
    let mut keys = PublicKeySet::new();
    keys.insert_pem("K1TESTKEY", &read("test-rsa-key-public.pem")).unwrap();
    keys.insert_pem("K2ECDSATEST", &read("test-ecdsa-key-public.pem")).unwrap();
    keys
}

fn hash_of(input: &Value) -> HashAlgorithm {
    match input["hashAlgorithm"].as_str() {
        None | Some("SHA1") => HashAlgorithm::Sha1,
        Some("SHA256") => HashAlgorithm::Sha256,
        Some(other) => panic!("unknown hashAlgorithm {other}"),
    }
}

fn signing_key(input: &Value) -> Result<SigningKey, KeyError> {
    let pem = read(input["privateKeyFile"].as_str().unwrap());
    SigningKey::from_pem(input["keyPairId"].as_str().unwrap(), &pem, hash_of(input))
}

/// The policy the AWS CLI would build for a case: custom when there is a
/// start date, an IP range, a wildcard, or a URL other than the resource.
fn policy_for(input: &Value, expected: &Value) -> Result<Policy, PolicyError> {
    let resource = input["resource"].as_str().unwrap();
    let expires = input["expirationDate"].as_u64().expect("every signing case has an expiry");
    let custom = input.get("activeDate").is_some()
        || input.get("ipRange").is_some()
        || resource.contains('*')
        || expected.get("applyTo").is_some();
    if !custom {
        return Policy::canned(resource, expires);
    }
    let mut builder = Policy::custom(resource, expires);
    if let Some(active) = input["activeDate"].as_u64() {
        builder = builder.not_before(active);
    }
    if let Some(range) = input["ipRange"].as_str() {
        builder = builder.ip_range(range.parse::<Ipv4Cidr>()?);
    }
    builder.build()
}

/// A client address inside the case's IP range (or any, without one).
fn client_ip(input: &Value) -> IpAddr {
    match input["ipRange"].as_str() {
        Some("192.168.0.0/24") => "192.168.0.77".parse().unwrap(),
        Some("10.0.0.0/8") => "10.20.30.40".parse().unwrap(),
        Some(other) => panic!("no test address for range {other}"),
        None => "203.0.113.5".parse().unwrap(),
    }
}

/// Checks an error case, by its id, against what our API does with it.
fn check_error_case(case: &Value) {
    let id = case["id"].as_str().unwrap();
    let input = &case["input"];
    let expected_terms: Vec<&str> =
        case["expected"]["errorContains"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    match id {
        "ecdsa-canned-policy-url-sha1-reject" => {
            let err = signing_key(input).unwrap_err();
            assert_eq!(err, KeyError::EcdsaNeedsSha256, "{id}");
            assert!(err.to_string().contains("SHA"), "{id}: {err}");
        }
        "error-missing-expiration" => {
            // Policy::canned and Policy::custom take the expiry as a required
            // argument: a policy without one cannot be written at all.
            assert!(input.get("expirationDate").is_none(), "{id}");
        }
        "error-active-after-expiration" => {
            let err = policy_for(input, &case["expected"]).unwrap_err();
            assert_eq!(err, PolicyError::ActiveAfterExpiration { not_before: 1767290400, expires: 1767200000 });
            for term in expected_terms {
                assert!(err.to_string().to_lowercase().contains(term), "{id}: {term:?} not in {err}");
            }
        }
        "error-unsupported-key-type" => {
            let err = signing_key(input).unwrap_err();
            assert!(matches!(err, KeyError::UnsupportedKeyType { ref found } if found.contains("DSA")), "{id}: {err}");
            for term in expected_terms {
                assert!(err.to_string().contains(term), "{id}: {term:?} not in {err}");
            }
        }
        "json-injection-resource-url-reject" => {
            // We neither reject nor JSON-escape: the resource is percent-encoded,
            // which turns every '"' into %22 before it reaches the policy. The
            // attack is neutralised: the document keeps one statement whose
            // Resource is the (encoded) URL, and no second Resource appears.
            let policy = policy_for(input, &case["expected"]).unwrap();
            let json: Value = serde_json::from_str(&policy.to_json()).unwrap();
            let statement = json["Statement"][0].as_object().unwrap();
            assert_eq!(statement.len(), 2, "{id}: {json}");
            assert_eq!(statement["Resource"], "https://example.com/file%22,%22Resource%22:%22*%22,%22x%22:%22");
            assert!(!policy.to_json().contains(r#""Resource":"*""#), "{id}");
        }
        "json-injection-ip-range-reject" => {
            let range = input["ipRange"].as_str().unwrap();
            let err = range.parse::<Ipv4Cidr>().unwrap_err();
            assert!(matches!(err, PolicyError::InvalidIpRange { .. }), "{id}: {err}");
        }
        other => panic!("error case {other:?} is new: decide what the signer must do with it"),
    }
}

fn split_query(url: &str) -> (&str, Vec<(&str, &str)>) {
    let (base, query) = url.split_once('?').unwrap();
    (base, query.split('&').map(|p| p.split_once('=').unwrap()).collect())
}

#[test]
fn aws_signed_url_vectors() {
    let keys = aws_public_keys();
    let mut rsa_cases = 0;
    let mut ecdsa_cases = 0;
    let mut error_cases = 0;
    for case in cases("sign-test-cases.json") {
        let id = case["id"].as_str().unwrap();
        let (input, expected) = (&case["input"], &case["expected"]);
        if expected["error"].as_bool() == Some(true) {
            check_error_case(&case);
            error_cases += 1;
            continue;
        }
        let key = signing_key(input).unwrap_or_else(|e| panic!("{id}: {e}"));
        let policy = policy_for(input, expected).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(policy.to_json(), expected["policyJson"].as_str().unwrap(), "{id}: policy document");

        let url = expected["applyTo"].as_str().unwrap_or(input["resource"].as_str().unwrap());
        let signed = sign_url(url, &policy, &key).unwrap_or_else(|e| panic!("{id}: {e}"));
        let signed = signed.as_str();
        let separator = if url.contains('?') { '&' } else { '?' };
        assert!(signed.starts_with(&format!("{url}{separator}")), "{id}: {signed}");

        // The parameters: exactly the expected ones, plus Signature and, for a
        // custom policy, Policy (which must decode to the expected document).
        let (_, params) = split_query(signed);
        let params: BTreeMap<&str, &str> = params.into_iter().collect();
        let mut expected_params: BTreeMap<&str, &str> = expected["queryParams"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        assert!(params.contains_key("Signature"), "{id}");
        expected_params.insert("Signature", params["Signature"]);
        if !expected_params.contains_key("Expires") {
            assert!(!policy.is_canned(), "{id}");
            expected_params.insert("Policy", params.get("Policy").copied().unwrap_or_default());
            let decoded = base64_cloudfront_decode(params["Policy"]);
            assert_eq!(decoded, expected["policyJson"].as_str().unwrap(), "{id}: Policy parameter");
        } else {
            assert!(policy.is_canned(), "{id}");
        }
        assert_eq!(params, expected_params, "{id}: parameter set");

        let ip = client_ip(input);
        let expires = input["expirationDate"].as_u64().unwrap();
        let now = input["activeDate"].as_u64().map_or(expires - 3600, |active| active + 1);
        if let Some(signature) = expected["signature"].as_str() {
            // RSA: deterministic, so the whole URL is reproduced byte for byte
            // (parameters in AWS's documented order).
            assert_eq!(params["Signature"], signature, "{id}: signature");
            let mut ordered = vec![];
            match expected_params.get("Expires") {
                Some(expires) => ordered.push(format!("Expires={expires}")),
                None => ordered.push(format!("Policy={}", params["Policy"])),
            }
            ordered.push(format!("Signature={signature}"));
            ordered.push(format!("Key-Pair-Id={}", input["keyPairId"].as_str().unwrap()));
            if let Some(hash) = input["hashAlgorithm"].as_str() {
                ordered.push(format!("Hash-Algorithm={hash}"));
            }
            assert_eq!(signed, format!("{url}{separator}{}", ordered.join("&")), "{id}: signed URL");
            assert_eq!(query_string(&policy, &key).unwrap().as_str(), ordered.join("&"), "{id}");
            rsa_cases += 1;
        } else {
            assert_eq!(expected["verifyCryptographically"], true, "{id}");
            assert_eq!(expected["signatureAlgorithm"], "ECDSA-SHA256", "{id}");
            ecdsa_cases += 1;
        }
        // Every signed URL verifies against AWS's public key, and expires.
        assert_eq!(verify_request(signed, &[], ip, now, &keys), Ok(()), "{id}: {signed}");
        assert!(verify_request(signed, &[], ip, expires, &keys).is_err(), "{id}: must expire");
    }
    assert_eq!((rsa_cases, ecdsa_cases, error_cases), (11, 2, 6), "the vector file changed");
}

#[test]
fn aws_signed_cookie_vectors() {
    let keys = aws_public_keys();
    let mut checked = 0;
    for case in cases("sign-cookies-test-cases.json") {
        let id = case["id"].as_str().unwrap();
        let (input, expected) = (&case["input"], &case["expected"]);
        if expected["error"].as_bool() == Some(true) {
            check_error_case(&case);
            checked += 1;
            continue;
        }
        let key = signing_key(input).unwrap_or_else(|e| panic!("{id}: {e}"));
        let policy = policy_for(input, expected).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(policy.to_json(), expected["policyJson"].as_str().unwrap(), "{id}");
        let cookies = signed_cookies(&policy, &key).unwrap();
        let ours: BTreeMap<&str, &str> = cookies.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut theirs: BTreeMap<&str, &str> =
            expected["cookies"].as_object().unwrap().iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap())).collect();
        if expected["verifyCryptographically"] == true {
            // ECDSA: the signature differs from run to run of other signers.
            theirs.insert("CloudFront-Signature", ours["CloudFront-Signature"]);
        }
        assert_eq!(ours, theirs, "{id}: cookies, byte for byte");

        // The cookies open the resource they were made for (a URL under the
        // wildcard for custom policies), for a client in the IP range.
        let request = input["resource"].as_str().unwrap().replace('*', "videos/clip.mp4");
        let pairs: Vec<(&str, &str)> = cookies.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let now = input["expirationDate"].as_u64().unwrap() - 60;
        assert_eq!(verify_request(&request, &pairs, client_ip(input), now, &keys), Ok(()), "{id}");
        checked += 1;
    }
    assert_eq!(checked, 11, "the vector file changed");
}

/// CloudFront base64 decoding, written out here so the test does not trust
/// the code under test for it.
fn base64_cloudfront_decode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|&c| c != b'_') {
        let value = ALPHABET.iter().position(|&a| a == c).expect("CloudFront base64 character") as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).unwrap()
}
