//! The CloudFront key group whose keys sign playback URLs.
//!
//! The key pair is made here (RSA-2048, the size CloudFront takes): the
//! private key goes into the OS keychain under the connection
//! (`<connection>/cloudfront-signing-key`) and is never written to disk; the
//! public key is uploaded (CreatePublicKey) and put in the key group
//! (CreateKeyGroup). Its id, the key pair id, goes to the settings.
//!
//! A key pair is made only when there is no key group yet. When the group
//! exists but this machine's keychain has no private key for any of its keys
//! (another machine set it up, or the keychain was reset), the check says so,
//! and `--rotate-signing-key` makes a new pair and adds its public key to the
//! group. A run that stopped between storing the private key and making the
//! group reuses that key, and its public key if it was uploaded already.

use aws_sdk_cloudfront::types::{KeyGroupConfig, PublicKeyConfig};
use zeroize::Zeroizing;

use super::error::{api, Failure};
use super::steps::{Check, Ctx};
use super::Action;
use crate::credentials::secrets::{get_secret, set_secret};
use crate::credentials::{SecretItem, SecretRef};
use crate::signing::PrivateKey;

pub(super) enum SigningState {
    /// The group and our key in it: nothing to do.
    Ready,
    /// No key group: make (or reuse) the key pair, then the group.
    NewGroup { private_pem: Option<Zeroizing<String>> },
    /// The group exists without a key this machine holds.
    Rotate { group_id: String },
}

struct Group {
    id: String,
    key_ids: Vec<String>,
}

async fn find_group(ctx: &Ctx) -> Result<Option<Group>, Failure> {
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .cloudfront
            .list_key_groups()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(api("cloudfront:ListKeyGroups"))?;
        let Some(list) = out.key_group_list else { return Ok(None) };
        for summary in list.items() {
            let Some(group) = summary.key_group() else { continue };
            let Some(config) = group.key_group_config() else { continue };
            if config.name() == ctx.names.key_group {
                return Ok(Some(Group { id: group.id().to_owned(), key_ids: config.items().to_vec() }));
            }
        }
        match list.next_marker() {
            Some(next) if !next.is_empty() && Some(next) != marker.as_deref() => marker = Some(next.to_owned()),
            _ => return Ok(None),
        }
    }
}

fn normalized(pem: &str) -> String {
    pem.chars().filter(|c| !c.is_whitespace()).collect()
}

fn secret_ref(ctx: &Ctx) -> SecretRef {
    SecretRef::new(&ctx.connection, SecretItem::CloudFrontSigningKey)
}

/// The public half of a private key PEM from the keychain.
fn public_pem(private_pem: &str) -> Result<String, Failure> {
    let key = PrivateKey::from_pem(private_pem).map_err(|e| {
        Failure::Blocked(format!(
            "the CloudFront signing key in the OS keychain is unreadable ({e}); \
             `streamdrop setup --apply --rotate-signing-key` replaces it"
        ))
    })?;
    Ok(key.public_key().to_pem())
}

/// Which of `key_ids` holds `public`, if any.
async fn matching_key(ctx: &Ctx, key_ids: &[String], public: &str) -> Result<Option<String>, Failure> {
    let wanted = normalized(public);
    for id in key_ids {
        let out = ctx.cloudfront.get_public_key().id(id).send().await.map_err(api("cloudfront:GetPublicKey"))?;
        let encoded = out.public_key().and_then(|k| k.public_key_config()).map(|c| c.encoded_key()).unwrap_or_default();
        if normalized(encoded) == wanted {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
}

/// A public key already uploaded with exactly this key material.
async fn uploaded_key(ctx: &Ctx, public: &str) -> Result<Option<String>, Failure> {
    let wanted = normalized(public);
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .cloudfront
            .list_public_keys()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(api("cloudfront:ListPublicKeys"))?;
        let Some(list) = out.public_key_list else { return Ok(None) };
        if let Some(found) = list.items().iter().find(|k| normalized(k.encoded_key()) == wanted) {
            return Ok(Some(found.id().to_owned()));
        }
        match list.next_marker() {
            Some(next) if !next.is_empty() && Some(next) != marker.as_deref() => marker = Some(next.to_owned()),
            _ => return Ok(None),
        }
    }
}

pub(super) async fn check(ctx: &mut Ctx) -> Result<Check<SigningState>, Failure> {
    let private_pem = get_secret(&ctx.secrets, &secret_ref(ctx)).await?;
    let group = find_group(ctx).await?;
    let Some(group) = group else {
        let details = match private_pem {
            Some(_) => vec![
                "reuse the RSA-2048 private key already in the OS keychain from an earlier run".into(),
                "upload its public key and make the key group".into(),
            ],
            None => vec![
                "generate an RSA-2048 key pair: the private key goes to the OS keychain, never to disk".into(),
                "upload the public key and make the key group".into(),
            ],
        };
        return Ok(Check::new(Action::Create, details, SigningState::NewGroup { private_pem }));
    };
    ctx.found.key_group_id = Some(group.id.clone());
    if let Some(pem) = &private_pem {
        let public = public_pem(pem);
        if let Ok(public) = public {
            if let Some(key_id) = matching_key(ctx, &group.key_ids, &public).await? {
                ctx.found.key_pair_id = Some(key_id.clone());
                return Ok(Check::new(Action::Exists, vec![format!("key pair id {key_id}")], SigningState::Ready));
            }
        }
    }
    let why = if private_pem.is_some() {
        "the private key in this machine's OS keychain matches none of the group's public keys"
    } else {
        "this machine's OS keychain has no private key for it"
    };
    let details = if ctx.rotate_signing_key {
        vec![
            why.to_owned(),
            "rotate: generate a new RSA-2048 key pair (private key to the OS keychain) and add its public key to the group"
                .to_owned(),
        ]
    } else {
        vec![
            why.to_owned(),
            "run `streamdrop setup --apply --rotate-signing-key` to add a new key to the group".to_owned(),
        ]
    };
    Ok(Check::new(Action::Update, details, SigningState::Rotate { group_id: group.id }))
}

async fn generate_and_store(ctx: &Ctx) -> Result<Zeroizing<String>, Failure> {
    let key = tokio::task::spawn_blocking(PrivateKey::generate_rsa_2048)
        .await
        .map_err(|e| Failure::Blocked(format!("key generation stopped: {e}")))?
        .map_err(|e| Failure::Blocked(format!("cannot generate an RSA-2048 key: {e}")))?;
    let pem = key.to_pkcs8_pem();
    // Into the keychain before anything is uploaded: a public key in
    // CloudFront whose private key was lost would be useless.
    set_secret(&ctx.secrets, &secret_ref(ctx), pem.clone()).await?;
    Ok(pem)
}

async fn upload_public_key(ctx: &Ctx, public: &str) -> Result<String, Failure> {
    if let Some(id) = uploaded_key(ctx, public).await? {
        return Ok(id);
    }
    let stamp = crate::clock::now_secs();
    let config = PublicKeyConfig::builder()
        .caller_reference(uuid::Uuid::new_v4().to_string())
        .name(format!("{}-{stamp}", ctx.names.public_key_prefix))
        .encoded_key(public)
        .comment(format!("Streamdrop signing key of connection \"{}\"", ctx.connection))
        .build()
        .expect("the public key config has its required fields");
    let out = ctx
        .cloudfront
        .create_public_key()
        .public_key_config(config)
        .send()
        .await
        .map_err(api("cloudfront:CreatePublicKey"))?;
    out.public_key()
        .map(|k| k.id().to_owned())
        .ok_or_else(|| Failure::Blocked("CreatePublicKey answered without the key's id".into()))
}

pub(super) async fn apply(ctx: &mut Ctx, check: Check<SigningState>) -> Result<(), Failure> {
    match check.state {
        SigningState::Ready => Ok(()),
        SigningState::NewGroup { private_pem } => {
            let pem = match private_pem {
                Some(pem) if public_pem(&pem).is_ok() => pem,
                _ => generate_and_store(ctx).await?,
            };
            let public = public_pem(&pem)?;
            let key_id = upload_public_key(ctx, &public).await?;
            let config = KeyGroupConfig::builder()
                .name(&ctx.names.key_group)
                .items(&key_id)
                .comment("Streamdrop: keys that sign playback URLs")
                .build()
                .expect("the key group config has its required fields");
            let out = ctx
                .cloudfront
                .create_key_group()
                .key_group_config(config)
                .send()
                .await
                .map_err(api("cloudfront:CreateKeyGroup"))?;
            ctx.found.key_group_id = out.key_group().map(|g| g.id().to_owned());
            ctx.found.key_pair_id = Some(key_id);
            Ok(())
        }
        SigningState::Rotate { group_id } => {
            if !ctx.rotate_signing_key {
                return Err(Failure::Blocked(format!(
                    "the key group exists, but this machine's OS keychain holds no private key for it, so no URL \
                     could be signed here. Run `streamdrop setup --apply --rotate-signing-key` to make a new key \
                     pair and add its public key to {}",
                    ctx.names.key_group
                )));
            }
            let pem = generate_and_store(ctx).await?;
            let public = public_pem(&pem)?;
            let key_id = upload_public_key(ctx, &public).await?;
            let current =
                ctx.cloudfront.get_key_group().id(&group_id).send().await.map_err(api("cloudfront:GetKeyGroup"))?;
            let etag = current.e_tag().unwrap_or_default().to_owned();
            let old = current.key_group().and_then(|g| g.key_group_config()).cloned();
            let mut items = old.as_ref().map(|c| c.items().to_vec()).unwrap_or_default();
            if !items.contains(&key_id) {
                items.push(key_id.clone());
            }
            let config = KeyGroupConfig::builder()
                .name(&ctx.names.key_group)
                .set_items(Some(items))
                .set_comment(old.and_then(|c| c.comment().map(str::to_owned)))
                .build()
                .expect("the key group config has its required fields");
            ctx.cloudfront
                .update_key_group()
                .id(&group_id)
                .if_match(etag)
                .key_group_config(config)
                .send()
                .await
                .map_err(api("cloudfront:UpdateKeyGroup"))?;
            ctx.found.key_pair_id = Some(key_id);
            Ok(())
        }
    }
}
