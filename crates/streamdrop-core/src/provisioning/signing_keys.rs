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
//! group; with a key in hand, `--rotate-signing-key` replaces it the same way.
//! The new key signs only once CloudFront has deployed it
//! ([`crate::credentials::cloudfront_key`]); the key it replaced, which no
//! keychain holds any more, is removed from the group (and deleted) by a later
//! run once every link signed with it has expired. Keys of other machines are
//! never touched. A run that stopped between storing a private key and adding
//! its public key reuses that key, and its public key if it was uploaded.

use aws_sdk_cloudfront::types::{KeyGroupConfig, PublicKeyConfig};
use zeroize::Zeroizing;

use super::error::{api, Failure};
use super::steps::{Check, Ctx};
use super::Action;
use crate::credentials::secrets::{get_secret, set_secret};
use crate::credentials::{SecretItem, SecretRef};
use crate::signing::PrivateKey;

/// CloudFront's quota of public keys in one key group.
const KEYS_PER_GROUP: usize = 5;

pub(super) enum SigningState {
    /// No key group: make (or reuse) the key pair, then the group.
    NewGroup { private_pem: Option<Zeroizing<String>> },
    /// The group exists: add a new key (a rotation), remove retired keys, or
    /// nothing (`Exists`).
    Group { id: String, add_key: bool, remove: Vec<String> },
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

/// The key group of the connection's names: its id and public key ids.
pub(super) async fn find(ctx: &Ctx) -> Result<Option<(String, Vec<String>)>, Failure> {
    Ok(find_group(ctx).await?.map(|g| (g.id, g.key_ids)))
}

fn normalized(pem: &str) -> String {
    pem.chars().filter(|c| !c.is_whitespace()).collect()
}

fn secret_ref(ctx: &Ctx, item: SecretItem) -> SecretRef {
    SecretRef::new(&ctx.connection, item)
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
    let private_pem = get_secret(&ctx.secrets, &secret_ref(ctx, SecretItem::CloudFrontSigningKey)).await?;
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
    let mut details = Vec::new();

    let held = match private_pem.as_deref().map(|pem| public_pem(pem)) {
        Some(Ok(public)) => matching_key(ctx, &group.key_ids, &public).await?,
        _ => None,
    };
    if let Some(id) = &held {
        ctx.found.key_pair_id = Some(id.clone());
        details.push(format!("key pair id {id}"));
    }
    // A rotation's key counts once it is in the group and its private half here.
    let next_held = get_secret(&ctx.secrets, &secret_ref(ctx, SecretItem::CloudFrontNextSigningKey)).await?.is_some();
    ctx.found.next_key_pair_id = ctx.found.next_key_pair_id.take().filter(|id| next_held && group.key_ids.contains(id));
    if let Some(id) = &ctx.found.next_key_pair_id {
        details.push(format!("new key {id} signs once CloudFront has deployed it"));
    }

    // Retired keys leave the group once the last link signed with each has expired.
    ctx.found.retired_keys.retain(|k| group.key_ids.contains(&k.id));
    let now = crate::clock::now_secs();
    let mut remove = Vec::new();
    for key in &ctx.found.retired_keys {
        match ctx.retired_until.get(&key.id).copied().filter(|until| *until > now) {
            None => {
                details.push(format!("remove retired key {} (no link signed with it is still valid)", key.id));
                remove.push(key.id.clone());
            }
            Some(until) => details.push(format!(
                "retired key {} stays until the last link signed with it expires ({})",
                key.id,
                crate::clock::utc_minute(until)
            )),
        }
    }

    let pending = ctx.found.next_key_pair_id.is_some();
    let must_rotate = held.is_none() && !pending;
    let add_key = !pending && (must_rotate || ctx.rotate_signing_key);
    if must_rotate {
        details.push(if private_pem.is_some() {
            "the private key in this machine's OS keychain matches none of the group's public keys".into()
        } else {
            "this machine's OS keychain has no private key for it".into()
        });
    } else if ctx.rotate_signing_key && pending {
        details.push("a rotation is already deploying: no other key is added".into());
    }
    if add_key && ctx.rotate_signing_key {
        details.push(
            "rotate: generate a new RSA-2048 key pair (private key to the OS keychain) and add its public key to \
             the group; links are signed with it once CloudFront has deployed it"
                .into(),
        );
        let after = group.key_ids.len() - remove.len() + 1;
        if after > KEYS_PER_GROUP {
            details.push(format!(
                "the group would hold {after} keys, over CloudFront's limit of {KEYS_PER_GROUP}: see the error"
            ));
        }
    } else if add_key {
        details.push("run `streamdrop setup --apply --rotate-signing-key` to add a new key to the group".into());
    }
    let action = if add_key || !remove.is_empty() { Action::Update } else { Action::Exists };
    Ok(Check::new(action, details, SigningState::Group { id: group.id, add_key, remove }))
}

async fn generate_and_store(ctx: &Ctx, item: SecretItem) -> Result<Zeroizing<String>, Failure> {
    let key = tokio::task::spawn_blocking(PrivateKey::generate_rsa_2048)
        .await
        .map_err(|e| Failure::Blocked(format!("key generation stopped: {e}")))?
        .map_err(|e| Failure::Blocked(format!("cannot generate an RSA-2048 key: {e}")))?;
    let pem = key.to_pkcs8_pem();
    // Into the keychain before anything is uploaded: a public key in
    // CloudFront whose private key was lost would be useless.
    set_secret(&ctx.secrets, &secret_ref(ctx, item), pem.clone()).await?;
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
        SigningState::NewGroup { private_pem } => {
            let pem = match private_pem {
                Some(pem) if public_pem(&pem).is_ok() => pem,
                _ => generate_and_store(ctx, SecretItem::CloudFrontSigningKey).await?,
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
        SigningState::Group { id, add_key, remove } => {
            if add_key && !ctx.rotate_signing_key {
                return Err(Failure::Blocked(format!(
                    "the key group exists, but this machine's OS keychain holds no private key for it, so no URL \
                     could be signed here. Run `streamdrop setup --apply --rotate-signing-key` to make a new key \
                     pair and add its public key to {}",
                    ctx.names.key_group
                )));
            }
            let current = ctx.cloudfront.get_key_group().id(&id).send().await.map_err(api("cloudfront:GetKeyGroup"))?;
            let etag = current.e_tag().unwrap_or_default().to_owned();
            let old = current.key_group().and_then(|g| g.key_group_config()).cloned();
            let mut items = old.as_ref().map(|c| c.items().to_vec()).unwrap_or_default();
            items.retain(|k| !remove.contains(k));
            let added = if add_key {
                if items.len() >= KEYS_PER_GROUP {
                    return Err(Failure::Blocked(format!(
                        "the key group {} already holds {} keys, CloudFront's limit, so no new key can be added. \
                         Keys of machines that no longer sign can be removed from the group in the CloudFront \
                         console (Key management → Key groups); keys this machine retired are removed once every \
                         link signed with them has expired",
                        ctx.names.key_group,
                        items.len()
                    )));
                }
                // A run that stopped after storing the new private key reuses it.
                let next_ref = secret_ref(ctx, SecretItem::CloudFrontNextSigningKey);
                let pem = match get_secret(&ctx.secrets, &next_ref).await? {
                    Some(pem) if public_pem(&pem).is_ok() => pem,
                    _ => generate_and_store(ctx, SecretItem::CloudFrontNextSigningKey).await?,
                };
                let key_id = upload_public_key(ctx, &public_pem(&pem)?).await?;
                if !items.contains(&key_id) {
                    items.push(key_id.clone());
                }
                Some(key_id)
            } else {
                None
            };
            let config = KeyGroupConfig::builder()
                .name(&ctx.names.key_group)
                .set_items(Some(items))
                .set_comment(old.and_then(|c| c.comment().map(str::to_owned)))
                .build()
                .expect("the key group config has its required fields");
            ctx.cloudfront
                .update_key_group()
                .id(&id)
                .if_match(etag)
                .key_group_config(config)
                .send()
                .await
                .map_err(api("cloudfront:UpdateKeyGroup"))?;
            if let Some(key_id) = added {
                ctx.found.next_key_pair_id = Some(key_id);
            }
            for key_id in &remove {
                delete_public_key(ctx, key_id).await?;
            }
            ctx.found.retired_keys.retain(|k| !remove.contains(&k.id));
            Ok(())
        }
    }
}

/// Deletes public key `id` (out of every key group first); gone already is fine.
pub(super) async fn delete_public_key(ctx: &Ctx, id: &str) -> Result<(), Failure> {
    let etag = match ctx.cloudfront.get_public_key().id(id).send().await {
        Ok(out) => out.e_tag().unwrap_or_default().to_owned(),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_public_key()) => return Ok(()),
        Err(err) => return Err(api("cloudfront:GetPublicKey")(err)),
    };
    match ctx.cloudfront.delete_public_key().id(id).if_match(etag).send().await {
        Ok(_) => Ok(()),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_public_key()) => Ok(()),
        Err(err) => Err(api("cloudfront:DeletePublicKey")(err)),
    }
}
