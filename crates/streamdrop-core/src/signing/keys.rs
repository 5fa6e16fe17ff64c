//! Keys: private keys that sign (RSA or ECDSA P-256, loaded from PEM or
//! generated in memory), public keys that verify, and the key pair IDs that
//! name them in CloudFront.
//!
//! The library never writes a private key anywhere: it hands out PEM text in
//! a [`Zeroizing`] string, and the `Debug` output of every type holding a
//! private key is redacted.

use std::collections::BTreeMap;
use std::fmt;

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::pkcs8::der::{pem, Decode as _};
use rsa::pkcs8::{LineEnding, ObjectIdentifier, PrivateKeyInfoRef, SubjectPublicKeyInfoRef};
use rsa::sha2::{Digest as _, Sha256};
use rsa::traits::PublicKeyParts as _;
use rsa::{Generate as _, Pkcs1v15Sign};
use sha1::Sha1;
use zeroize::Zeroizing;

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// Names of key algorithms CloudFront does not take, for error messages.
const KNOWN_UNSUPPORTED: [(&str, &str); 5] = [
    ("1.2.840.10040.4.1", "DSA"),
    ("1.3.101.112", "Ed25519"),
    ("1.3.101.113", "Ed448"),
    ("1.2.840.113549.1.1.10", "RSASSA-PSS"),
    ("1.2.840.10046.2.1", "Diffie-Hellman"),
];

/// Why a key cannot be loaded, generated or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no PEM key found: expected text between lines such as -----BEGIN PRIVATE KEY----- \
         and -----END PRIVATE KEY-----"
    )]
    NoPem,
    #[error(
        "the private key is encrypted (password-protected), which is not supported: decrypt it \
         first, e.g. `openssl pkey -in key.pem -out key-decrypted.pem`"
    )]
    Encrypted,
    #[error("the PEM holds a {found}, not a private key: signing needs the private key of the key pair")]
    NotAPrivateKey { found: String },
    #[error(
        "the PEM holds a {found}, not a public key: pass the public key \
         (`openssl pkey -in key.pem -pubout` prints it)"
    )]
    NotAPublicKey { found: String },
    #[error("unsupported key type {found}: CloudFront signs with RSA or ECDSA (P-256) keys only")]
    UnsupportedKeyType { found: String },
    #[error(
        "the ECDSA key is on curve {curve}, but CloudFront supports only P-256 (prime256v1): \
         create one with `openssl ecparam -name prime256v1 -genkey`"
    )]
    UnsupportedCurve { curve: String },
    #[error("the {format} key cannot be decoded ({reason}): is the PEM complete and unmodified?")]
    Invalid { format: &'static str, reason: String },
    #[error(
        "ECDSA keys sign with SHA-256 only (CloudFront refuses ECDSA with SHA-1): \
         use HashAlgorithm::Sha256"
    )]
    EcdsaNeedsSha256,
    #[error(
        "{id:?} is not a CloudFront key pair ID: expected the ID CloudFront gave the public key, \
         letters and digits such as K2JCJMDEHXQW5F"
    )]
    InvalidKeyPairId { id: String },
    #[error("cannot generate a key: the operating system's random number generator failed ({reason})")]
    Generation { reason: String },
}

/// The digest signed with the key. CloudFront's default is SHA-1; SHA-256
/// adds `Hash-Algorithm=SHA256` to signed URLs (`CloudFront-Hash-Algorithm`
/// to cookies). ECDSA keys always use SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashAlgorithm {
    #[default]
    Sha1,
    Sha256,
}

impl HashAlgorithm {
    /// The value of the `Hash-Algorithm` parameter, if it must be sent
    /// (it is not for SHA-1, CloudFront's default).
    pub(crate) fn param_value(self) -> Option<&'static str> {
        match self {
            Self::Sha1 => None,
            Self::Sha256 => Some("SHA256"),
        }
    }

    /// Reads a `Hash-Algorithm` value as CloudFront does: absent means SHA-1.
    pub(crate) fn from_param(value: Option<&str>) -> Option<Self> {
        match value {
            None | Some("SHA1") => Some(Self::Sha1),
            Some("SHA256") => Some(Self::Sha256),
            Some(_) => None,
        }
    }
}

/// The kind of a key, for display and decisions; it holds no key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    Rsa { bits: usize },
    EcdsaP256,
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa { bits } => write!(f, "RSA-{bits}"),
            Self::EcdsaP256 => f.write_str("ECDSA P-256"),
        }
    }
}

/// A private key that can sign CloudFront policies. Its `Debug` output never
/// shows key material, and it is zeroed when dropped.
pub struct PrivateKey(Private);

enum Private {
    Rsa(Box<rsa::PrivateKey>),
    EcdsaP256(p256::ecdsa::SigningKey),
}

impl PrivateKey {
    /// Loads a private key from PEM text: PKCS#8 (`BEGIN PRIVATE KEY`, RSA
    /// or EC), PKCS#1 (`BEGIN RSA PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE
    /// KEY`, as `openssl ecparam -genkey` writes it, with or without its `EC
    /// PARAMETERS` block). Encrypted keys are refused.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        if pem.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(KeyError::Encrypted);
        }
        let blocks = pem_blocks(pem);
        let (label, der) = blocks
            .iter()
            .find(|(label, _)| *label != "EC PARAMETERS")
            .map(|(label, block)| (*label, decode_pem(block)))
            .ok_or(KeyError::NoPem)?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der?),
            "RSA PRIVATE KEY" => rsa::PrivateKey::from_pkcs1_der(&der?)
                .map(|key| Self(Private::Rsa(Box::new(key))))
                .map_err(|e| invalid("PKCS#1 RSA", e)),
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&der?)
                .map(|key| Self(Private::EcdsaP256(key.into())))
                .map_err(|e| KeyError::Invalid {
                    format: "SEC1 EC",
                    reason: format!("{e}; note that only P-256 keys are supported"),
                }),
            "ENCRYPTED PRIVATE KEY" => Err(KeyError::Encrypted),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(KeyError::NotAPrivateKey { found: "public key".into() }),
            "CERTIFICATE" => Err(KeyError::NotAPrivateKey { found: "certificate".into() }),
            "DSA PRIVATE KEY" => Err(KeyError::UnsupportedKeyType { found: "DSA".into() }),
            "OPENSSH PRIVATE KEY" => Err(KeyError::UnsupportedKeyType {
                found: "OpenSSH private key (convert it with `ssh-keygen -p -m PEM -f KEY`)".into(),
            }),
            other => Err(KeyError::UnsupportedKeyType { found: format!("PEM block {other:?}") }),
        }
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|e| invalid("PKCS#8", e))?;
        let oid = info.algorithm.oid;
        if oid == OID_RSA {
            rsa::PrivateKey::from_pkcs8_der(der)
                .map(|key| Self(Private::Rsa(Box::new(key))))
                .map_err(|e| invalid("PKCS#8 RSA", e))
        } else if oid == OID_EC {
            check_curve(info.algorithm.parameters_oid().ok())?;
            p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map(|key| Self(Private::EcdsaP256(key)))
                .map_err(|e| invalid("PKCS#8 EC", e))
        } else {
            Err(unsupported(oid))
        }
    }

    /// Generates a new RSA-2048 key in memory, the size CloudFront requires
    /// for uploaded public keys. Slow in unoptimised builds (seconds).
    pub fn generate_rsa_2048() -> Result<Self, KeyError> {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048)
            .map_err(|e| KeyError::Generation { reason: e.to_string() })?;
        Ok(Self(Private::Rsa(Box::new(key))))
    }

    /// Generates a new ECDSA P-256 key in memory.
    pub fn generate_ecdsa_p256() -> Result<Self, KeyError> {
        let key = p256::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng)
            .map_err(|e| KeyError::Generation { reason: e.to_string() })?;
        Ok(Self(Private::EcdsaP256(key)))
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.0 {
            Private::Rsa(key) => KeyAlgorithm::Rsa { bits: key.size() * 8 },
            Private::EcdsaP256(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// The matching public key (what is uploaded to CloudFront).
    pub fn public_key(&self) -> PublicKey {
        PublicKey(match &self.0 {
            Private::Rsa(key) => Public::Rsa(Box::new(key.to_public_key())),
            Private::EcdsaP256(key) => Public::EcdsaP256(*key.verifying_key()),
        })
    }

    /// The key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), in memory that is zeroed
    /// when dropped. Where it is stored is the caller's decision.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let pem = match &self.0 {
            Private::Rsa(key) => key.to_pkcs8_pem(LineEnding::LF),
            Private::EcdsaP256(key) => key.to_pkcs8_pem(LineEnding::LF),
        };
        // Encoding a well-formed in-memory key into a growable buffer cannot fail.
        pem.expect("encoding a private key as PKCS#8 PEM")
    }

    pub(crate) fn sign(&self, message: &[u8], hash: HashAlgorithm) -> Result<Vec<u8>, String> {
        match (&self.0, hash) {
            (Private::Rsa(key), HashAlgorithm::Sha1) => {
                key.sign(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(message)).map_err(|e| e.to_string())
            }
            (Private::Rsa(key), HashAlgorithm::Sha256) => {
                key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message)).map_err(|e| e.to_string())
            }
            // ECDSA signatures go to CloudFront DER-encoded (the ASN.1
            // SEQUENCE { r INTEGER, s INTEGER } of RFC 3279), not as the fixed
            // 64-byte r||s. What we found: the CloudFront developer guide does
            // not spell the encoding out, but its recipe is `openssl dgst
            // -sha256 -sign` (which writes DER); the AWS CLI's `cloudfront
            // sign` notes that its signer returns "the DER encoded signature
            // that CloudFront expects", and AWS's shared test vectors check
            // ECDSA cases by verifying a DER signature. tests/signing_openssl.rs
            // checks ours with `openssl dgst -sha256 -verify`.
            (Private::EcdsaP256(key), HashAlgorithm::Sha256) => {
                let signature: p256::ecdsa::DerSignature = key.sign(message);
                Ok(signature.as_bytes().to_vec())
            }
            (Private::EcdsaP256(_), HashAlgorithm::Sha1) => Err(KeyError::EcdsaNeedsSha256.to_string()),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey").field("algorithm", &self.algorithm()).field("material", &"<redacted>").finish()
    }
}

/// A public key that verifies CloudFront signatures, as uploaded to
/// CloudFront and trusted by the local edge.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(Public);

#[derive(Clone, PartialEq, Eq)]
enum Public {
    Rsa(Box<rsa::PublicKey>),
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Loads a public key from PEM: SPKI (`BEGIN PUBLIC KEY`, RSA or EC P-256,
    /// what CloudFront takes and `openssl pkey -pubout` writes) or PKCS#1
    /// (`BEGIN RSA PUBLIC KEY`). Private keys are refused.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let blocks = pem_blocks(pem);
        let (label, block) = blocks.first().ok_or(KeyError::NoPem)?;
        match *label {
            "PUBLIC KEY" => {
                let der = decode_pem(block)?;
                let info = SubjectPublicKeyInfoRef::from_der(&der).map_err(|e| invalid("SPKI", e))?;
                let oid = info.algorithm.oid;
                if oid == OID_RSA {
                    rsa::PublicKey::from_public_key_der(&der)
                        .map(|key| Self(Public::Rsa(Box::new(key))))
                        .map_err(|e| invalid("SPKI RSA", e))
                } else if oid == OID_EC {
                    check_curve(info.algorithm.parameters_oid().ok())?;
                    p256::ecdsa::VerifyingKey::from_public_key_der(&der)
                        .map(|key| Self(Public::EcdsaP256(key)))
                        .map_err(|e| invalid("SPKI EC", e))
                } else {
                    Err(unsupported(oid))
                }
            }
            "RSA PUBLIC KEY" => rsa::PublicKey::from_pkcs1_der(&decode_pem(block)?)
                .map(|key| Self(Public::Rsa(Box::new(key))))
                .map_err(|e| invalid("PKCS#1 RSA public", e)),
            label if label.contains("PRIVATE KEY") => Err(KeyError::NotAPublicKey { found: "private key".into() }),
            "CERTIFICATE" => Err(KeyError::NotAPublicKey { found: "certificate".into() }),
            other => Err(KeyError::UnsupportedKeyType { found: format!("PEM block {other:?}") }),
        }
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.0 {
            Public::Rsa(key) => KeyAlgorithm::Rsa { bits: key.size() * 8 },
            Public::EcdsaP256(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// The key as SPKI PEM (`BEGIN PUBLIC KEY`), the form CloudFront's
    /// CreatePublicKey takes as `EncodedKey`.
    pub fn to_pem(&self) -> String {
        let pem = match &self.0 {
            Public::Rsa(key) => key.to_public_key_pem(LineEnding::LF),
            Public::EcdsaP256(key) => key.to_public_key_pem(LineEnding::LF),
        };
        pem.expect("encoding a public key as SPKI PEM")
    }

    /// Whether `signature` is this key's signature of `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8], hash: HashAlgorithm) -> bool {
        match (&self.0, hash) {
            (Public::Rsa(key), HashAlgorithm::Sha1) => {
                key.verify(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(message), signature).is_ok()
            }
            (Public::Rsa(key), HashAlgorithm::Sha256) => {
                key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), signature).is_ok()
            }
            (Public::EcdsaP256(key), HashAlgorithm::Sha256) => p256::ecdsa::DerSignature::from_bytes(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            (Public::EcdsaP256(_), HashAlgorithm::Sha1) => false,
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.algorithm())
    }
}

/// A private key with the CloudFront key pair ID of its public key and the
/// hash it signs with: everything needed to sign URLs and cookies.
pub struct SigningKey {
    key_pair_id: String,
    key: PrivateKey,
    hash: HashAlgorithm,
}

impl SigningKey {
    /// Pairs `key` with the ID CloudFront gave its public key. ECDSA keys
    /// require [`HashAlgorithm::Sha256`].
    pub fn new(key_pair_id: &str, key: PrivateKey, hash: HashAlgorithm) -> Result<Self, KeyError> {
        check_key_pair_id(key_pair_id)?;
        if key.algorithm() == KeyAlgorithm::EcdsaP256 && hash != HashAlgorithm::Sha256 {
            return Err(KeyError::EcdsaNeedsSha256);
        }
        Ok(Self { key_pair_id: key_pair_id.to_owned(), key, hash })
    }

    /// [`PrivateKey::from_pem`] followed by [`SigningKey::new`].
    pub fn from_pem(key_pair_id: &str, pem: &str, hash: HashAlgorithm) -> Result<Self, KeyError> {
        Self::new(key_pair_id, PrivateKey::from_pem(pem)?, hash)
    }

    pub fn key_pair_id(&self) -> &str {
        &self.key_pair_id
    }

    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash
    }

    pub fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The public key as SPKI PEM, to upload to CloudFront.
    pub fn public_key_pem(&self) -> String {
        self.key.public_key().to_pem()
    }

    /// The private key as PKCS#8 PEM, zeroed when dropped.
    pub fn private_key_pem(&self) -> Zeroizing<String> {
        self.key.to_pkcs8_pem()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        self.key.sign(message, self.hash)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_pair_id", &self.key_pair_id)
            .field("hash", &self.hash)
            .field("key", &self.key)
            .finish()
    }
}

/// The public keys a verifier trusts, by key pair ID (CloudFront's trusted
/// key group).
#[derive(Debug, Clone, Default)]
pub struct PublicKeySet {
    keys: BTreeMap<String, PublicKey>,
}

impl PublicKeySet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `key` under `key_pair_id`, replacing (and returning) any key
    /// that had that ID.
    pub fn insert(&mut self, key_pair_id: &str, key: PublicKey) -> Result<Option<PublicKey>, KeyError> {
        check_key_pair_id(key_pair_id)?;
        Ok(self.keys.insert(key_pair_id.to_owned(), key))
    }

    /// [`PublicKey::from_pem`] followed by [`PublicKeySet::insert`].
    pub fn insert_pem(&mut self, key_pair_id: &str, pem: &str) -> Result<Option<PublicKey>, KeyError> {
        self.insert(key_pair_id, PublicKey::from_pem(pem)?)
    }

    pub fn get(&self, key_pair_id: &str) -> Option<&PublicKey> {
        self.keys.get(key_pair_id)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Key pair IDs go into URLs and cookies unescaped: CloudFront's are upper-case
/// letters and digits; `-` and `_` are allowed for locally made-up IDs.
fn check_key_pair_id(id: &str) -> Result<(), KeyError> {
    let valid =
        (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(KeyError::InvalidKeyPairId { id: id.to_owned() })
    }
}

fn check_curve(curve: Option<ObjectIdentifier>) -> Result<(), KeyError> {
    match curve {
        Some(curve) if curve == OID_P256 => Ok(()),
        Some(curve) => {
            let name = match curve.to_string().as_str() {
                "1.3.132.0.34" => "P-384 (secp384r1)".to_owned(),
                "1.3.132.0.35" => "P-521 (secp521r1)".to_owned(),
                "1.3.132.0.10" => "secp256k1".to_owned(),
                other => other.to_owned(),
            };
            Err(KeyError::UnsupportedCurve { curve: name })
        }
        None => Err(KeyError::UnsupportedCurve { curve: "unnamed (explicit parameters)".into() }),
    }
}

fn unsupported(oid: ObjectIdentifier) -> KeyError {
    let oid = oid.to_string();
    let found = match KNOWN_UNSUPPORTED.iter().find(|(known, _)| *known == oid) {
        Some((_, name)) => format!("{name} ({oid})"),
        None => format!("with algorithm OID {oid}"),
    };
    KeyError::UnsupportedKeyType { found }
}

fn invalid(format: &'static str, error: impl fmt::Display) -> KeyError {
    KeyError::Invalid { format, reason: error.to_string() }
}

/// The PEM blocks in `text`, as (label, whole block including its armour).
fn pem_blocks(text: &str) -> Vec<(&str, &str)> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else { break };
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else { break };
        let block_end = start + end + end_marker.len();
        blocks.push((label, &rest[start..block_end]));
        rest = &rest[block_end..];
    }
    blocks
}

/// The DER bytes of one PEM block, zeroed when dropped (they may be a private key).
fn decode_pem(block: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    // Tolerate Windows line endings and indentation around the armour.
    let normalised: String = block.lines().map(str::trim).collect::<Vec<_>>().join("\n");
    let normalised = Zeroizing::new(normalised);
    pem::decode_vec(normalised.as_bytes()).map(|(_, der)| Zeroizing::new(der)).map_err(|e| invalid("PEM", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS's public P-256 test key (tests/data/cloudfront/test-ecdsa-key.pem).
    const EC_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrYlqAmw042lSYigS
/hH1a8NamwSmZHOnIfkoDPMjHbKhRANCAAS70BK5GOWO0HlQcodlwYOKG45Ng7cd
agIYyRgZUEId3gsFY43KtQPcgKLUQ1NPOJyuFcYCtki460UsOV1ThTxP
-----END PRIVATE KEY-----
";

    #[test]
    fn debug_output_never_shows_private_key_material() {
        let key = PrivateKey::from_pem(EC_PKCS8).unwrap();
        let pem = key.to_pkcs8_pem();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let signing = SigningKey::new("K2ECDSATEST", key, HashAlgorithm::Sha256).unwrap();
        for debug in [format!("{:?}", signing.private_key()), format!("{signing:?}"), format!("{signing:#?}")] {
            assert!(debug.contains("<redacted>"), "{debug}");
            assert!(debug.contains("ECDSA") || debug.contains("EcdsaP256"), "{debug}");
            // Neither the PEM nor any 8-character run of it, nor the secret scalar in hex.
            assert!(!debug.contains("MIGHAgEA"), "{debug}");
            for window in body.as_bytes().windows(8) {
                assert!(!debug.contains(std::str::from_utf8(window).unwrap()), "{debug}");
            }
            assert!(!debug.to_lowercase().contains("ad896a02"), "{debug}");
        }
        assert!(format!("{signing:?}").contains("K2ECDSATEST"));
    }

    #[test]
    fn pem_blocks_are_found_among_other_text() {
        let text = "junk\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
                    -----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\ntrailer";
        let labels: Vec<&str> = pem_blocks(text).iter().map(|(label, _)| *label).collect();
        assert_eq!(labels, ["EC PARAMETERS", "EC PRIVATE KEY"]);
        assert!(pem_blocks("no pem here").is_empty());
    }

    #[test]
    fn key_pair_ids_are_checked() {
        for good in ["K2JCJMDEHXQW5F", "APKAJCEOKRHC3XIVU5NA", "local-dev_1"] {
            assert!(check_key_pair_id(good).is_ok(), "{good}");
        }
        for bad in ["", "K1 TEST", "K1&Signature=x", "K1;", "ключ"] {
            assert!(check_key_pair_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hash_parameter_values() {
        assert_eq!(HashAlgorithm::default(), HashAlgorithm::Sha1);
        assert_eq!(HashAlgorithm::Sha1.param_value(), None);
        assert_eq!(HashAlgorithm::Sha256.param_value(), Some("SHA256"));
        assert_eq!(HashAlgorithm::from_param(None), Some(HashAlgorithm::Sha1));
        assert_eq!(HashAlgorithm::from_param(Some("SHA1")), Some(HashAlgorithm::Sha1));
        assert_eq!(HashAlgorithm::from_param(Some("SHA256")), Some(HashAlgorithm::Sha256));
        assert_eq!(HashAlgorithm::from_param(Some("sha256")), None);
    }
}
