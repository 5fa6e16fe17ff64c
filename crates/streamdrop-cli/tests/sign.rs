//! `streamdrop sign`, run as a real process: its one line of stdout is what
//! the library signs, custom policy files verify, and mistakes are explained.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use streamdrop_core::signing::{
    sign_url, verify_request, Denied, HashAlgorithm, Policy, PrivateKey, PublicKeySet, SigningKey,
};

const EDGE: &str = "http://127.0.0.1:8443";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// AWS's RSA test key, kept with the signer's tests.
fn rsa_pem_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../streamdrop-core/tests/data/cloudfront/test-rsa-key.pem")
}

/// A scratch directory for one test, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("streamdrop-sign-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sign(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streamdrop"))
        .arg("sign")
        .args(args)
        .env_remove("STREAMDROP_LOG")
        .output()
        .expect("run streamdrop sign")
}

/// The one line a successful run prints.
fn signed_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "streamdrop sign failed: {stderr}");
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let line = stdout.strip_suffix('\n').unwrap_or_else(|| panic!("no newline at the end of {stdout:?}"));
    assert!(!line.contains('\n') && !line.is_empty(), "stdout must be exactly one line: {stdout:?}");
    line.to_owned()
}

/// A failed run: non-zero, nothing on stdout, the message on stderr.
fn failure(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure, got {output:?}");
    assert!(output.stdout.is_empty(), "nothing on stdout on error: {:?}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn trusted(key: &SigningKey) -> PublicKeySet {
    let mut keys = PublicKeySet::new();
    keys.insert(key.key_pair_id(), key.public_key()).unwrap();
    keys
}

#[test]
fn expires_prints_exactly_what_the_library_signs() {
    let scratch = Scratch::new("canned");
    let pem_path = rsa_pem_path();
    let pem = std::fs::read_to_string(&pem_path).unwrap();
    let expires = now() + 3600;
    let pem_arg = pem_path.to_str().unwrap();

    for (url, hash, hash_args) in [
        (format!("{EDGE}/jobs/A/hls/master.m3u8"), HashAlgorithm::Sha1, vec![]),
        (format!("{EDGE}/jobs/A/My Clip é.mp4"), HashAlgorithm::Sha1, vec!["--hash-algorithm", "SHA1"]),
        (format!("{EDGE}/jobs/A/poster.jpg?v=2"), HashAlgorithm::Sha256, vec!["--hash-algorithm", "SHA256"]),
    ] {
        let key = SigningKey::from_pem("K2JCJMDEHXQW5F", &pem, hash).unwrap();
        let expected = sign_url(&url, &Policy::canned(&url, expires).unwrap(), &key).unwrap();
        let mut args = vec![url.as_str(), "--key-pair-id", "K2JCJMDEHXQW5F", "--private-key", pem_arg];
        let expires = expires.to_string();
        args.extend(["--expires", &expires]);
        args.extend(hash_args);
        let output = sign(&args);
        assert_eq!(signed_line(&output), expected.as_str());
        assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(verify_request(expected.as_str(), &[], IpAddr::from([127, 0, 0, 1]), now(), &trusted(&key)), Ok(()));
    }

    // ECDSA keys sign with SHA-256 without being told (ECDSA signatures are
    // deterministic, RFC 6979, so the strings compare too).
    let ecdsa = SigningKey::new("KECDSA1", PrivateKey::generate_ecdsa_p256().unwrap(), HashAlgorithm::Sha256).unwrap();
    let ecdsa_pem = scratch.write("ecdsa.pem", &ecdsa.private_key_pem());
    let url = format!("{EDGE}/jobs/B/poster.jpg");
    let expected = sign_url(&url, &Policy::canned(&url, expires).unwrap(), &ecdsa).unwrap();
    let expires = expires.to_string();
    let output =
        sign(&[&url, "--key-pair-id", "KECDSA1", "--private-key", ecdsa_pem.to_str().unwrap(), "--expires", &expires]);
    let line = signed_line(&output);
    assert!(line.ends_with("&Key-Pair-Id=KECDSA1&Hash-Algorithm=SHA256"), "{line}");
    assert_eq!(line, expected.as_str());
}

#[test]
fn a_policy_file_round_trips_through_verify_request() {
    let scratch = Scratch::new("policy");
    let key =
        SigningKey::from_pem("K1", &std::fs::read_to_string(rsa_pem_path()).unwrap(), HashAlgorithm::Sha1).unwrap();
    let (start, end) = (now() - 60, now() + 3600);
    // Written as people write it: indented, keys in any order.
    let policy = scratch.write(
        "policy.json",
        &format!(
            r#"{{
  "Statement": [
    {{
      "Condition": {{
        "IpAddress": {{ "AWS:SourceIp": "127.0.0.0/8" }},
        "DateLessThan": {{ "AWS:EpochTime": {end} }},
        "DateGreaterThan": {{ "AWS:EpochTime": {start} }}
      }},
      "Resource": "{EDGE}/jobs/A/*"
    }}
  ]
}}
"#
        ),
    );
    let url = format!("{EDGE}/jobs/A/hls/master.m3u8");
    let pem = rsa_pem_path();
    let output = sign(&[
        &url,
        "--key-pair-id",
        "K1",
        "--private-key",
        pem.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    let signed = signed_line(&output);
    assert!(signed.starts_with(&format!("{url}?Policy=")) && signed.ends_with("&Key-Pair-Id=K1"), "{signed}");

    let keys = trusted(&key);
    let localhost = IpAddr::from([127, 0, 0, 1]);
    assert_eq!(verify_request(&signed, &[], localhost, now(), &keys), Ok(()));
    // The query grants the whole job (the wildcard) and carries every condition.
    let segment = signed.replace("/hls/master.m3u8?", "/hls/360p/seg_00000.ts?");
    assert_eq!(verify_request(&segment, &[], localhost, now(), &keys), Ok(()));
    let other_job = signed.replace("/jobs/A/", "/jobs/B/");
    assert!(matches!(verify_request(&other_job, &[], localhost, now(), &keys), Err(Denied::ResourceMismatch { .. })));
    let elsewhere = IpAddr::from([10, 1, 2, 3]);
    assert!(matches!(verify_request(&signed, &[], elsewhere, now(), &keys), Err(Denied::IpNotAllowed { .. })));
    assert!(matches!(verify_request(&signed, &[], localhost, start, &keys), Err(Denied::NotYetValid { .. })));
    assert!(matches!(verify_request(&signed, &[], localhost, end, &keys), Err(Denied::Expired { .. })));

    // A policy that does not cover the URL is refused before anything is printed.
    let outside = format!("{EDGE}/jobs/B/poster.jpg");
    let stderr = failure(&sign(&[
        &outside,
        "--key-pair-id",
        "K1",
        "--private-key",
        pem.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]));
    assert!(stderr.contains("is not covered by the policy's resource"), "{stderr}");

    let broken = scratch.write("broken.json", r#"{"Statement":[{"Resource":"x","Condition":{"DateLessThan":{}}}]}"#);
    let stderr = failure(&sign(&[
        &url,
        "--key-pair-id",
        "K1",
        "--private-key",
        pem.to_str().unwrap(),
        "--policy",
        broken.to_str().unwrap(),
    ]));
    assert!(stderr.contains("broken.json is not a CloudFront policy") && stderr.contains("AWS:EpochTime"), "{stderr}");
}

#[test]
fn mistakes_exit_non_zero_with_a_clear_message_and_never_show_the_key() {
    let scratch = Scratch::new("errors");
    let url = format!("{EDGE}/jobs/A/hls/master.m3u8");
    let expires = (now() + 3600).to_string();
    let with_key = |key_file: &Path, extra: &[&str]| {
        let mut args = vec![url.as_str(), "--key-pair-id", "K1", "--private-key", key_file.to_str().unwrap()];
        args.extend_from_slice(extra);
        sign(&args)
    };

    let missing = scratch.0.join("no-such-key.pem");
    let stderr = failure(&with_key(&missing, &["--expires", &expires]));
    assert!(stderr.contains("cannot read the private key file") && stderr.contains("no-such-key.pem"), "{stderr}");

    let not_a_key = scratch.write("notes.txt", "just some notes\n");
    let stderr = failure(&with_key(&not_a_key, &["--expires", &expires]));
    assert!(stderr.contains("is not a usable CloudFront private key: no PEM key found"), "{stderr}");

    let public =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../streamdrop-core/tests/data/cloudfront/test-rsa-key-public.pem");
    let stderr = failure(&with_key(&public, &["--expires", &expires]));
    assert!(stderr.contains("holds a public key, not a private key"), "{stderr}");

    let ecdsa = PrivateKey::generate_ecdsa_p256().unwrap().to_pkcs8_pem();
    let ecdsa_path = scratch.write("ecdsa.pem", &ecdsa);
    let stderr = failure(&with_key(&ecdsa_path, &["--expires", &expires, "--hash-algorithm", "SHA1"]));
    assert!(
        stderr.contains("ECDSA keys sign with SHA-256 only") && stderr.contains("--hash-algorithm SHA256"),
        "{stderr}"
    );
    // Nothing of the key reaches the terminal, not even in errors.
    for line in ecdsa.lines().filter(|line| !line.starts_with("-----")) {
        assert!(!stderr.contains(line), "the key leaked into: {stderr}");
    }

    let rsa = rsa_pem_path();
    let stderr = failure(&with_key(&rsa, &[]));
    assert!(stderr.contains("--expires") && stderr.contains("--policy"), "{stderr}");
    let policy = scratch.write("p.json", "{}");
    let stderr = failure(&with_key(&rsa, &["--expires", &expires, "--policy", policy.to_str().unwrap()]));
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let stderr = failure(&with_key(&rsa, &["--expires", &expires, "--hash-algorithm", "MD5"]));
    assert!(stderr.contains("SHA1") && stderr.contains("SHA256"), "{stderr}");

    let stderr =
        failure(&sign(&[&url, "--key-pair-id", "K1;x", "--private-key", rsa.to_str().unwrap(), "--expires", &expires]));
    assert!(stderr.contains("is not a CloudFront key pair ID"), "{stderr}");
    let wildcard = format!("{EDGE}/jobs/A/*");
    let stderr = failure(&sign(&[
        &wildcard,
        "--key-pair-id",
        "K1",
        "--private-key",
        rsa.to_str().unwrap(),
        "--expires",
        &expires,
    ]));
    assert!(stderr.contains("canned policy covers one exact URL"), "{stderr}");
    let stderr = failure(&sign(&[
        "jobs/A/x.ts",
        "--key-pair-id",
        "K1",
        "--private-key",
        rsa.to_str().unwrap(),
        "--expires",
        &expires,
    ]));
    assert!(stderr.contains("is not an absolute http:// or https:// URL"), "{stderr}");
}
