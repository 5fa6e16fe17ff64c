//! The CloudFront side: the origin access control, the cache and response
//! headers policies, and the distribution that ties them to the media bucket.
//!
//! - Origin access control (SigV4, always sign, S3): CloudFront reads the
//!   private bucket with it; the bucket policy names the distribution.
//! - Cache policy: no query strings, headers or cookies in the cache key, so
//!   every signed URL of a segment hits the same cached object (signatures
//!   differ per viewer and per expiry).
//! - Response headers policy: CORS for any origin (see [`CORS_ORIGINS`]),
//!   GET/HEAD/OPTIONS.
//! - Distribution: one S3 origin (the media bucket's regional domain, with the
//!   OAC), HTTPS only, and a default behaviour that trusts the key group.
//!
//! A distribution is found by its origin: any distribution whose origin is the
//! media bucket is adopted (the one in the settings first). Endpoints that do
//! not implement cache or response headers policies (moto's server) get a
//! `skip` line, and the distribution then keeps query strings out of the cache
//! key with legacy forwarded values.

use aws_sdk_cloudfront::types::{
    AllowedMethods, CachePolicyConfig, CachePolicyCookieBehavior, CachePolicyCookiesConfig, CachePolicyHeaderBehavior,
    CachePolicyHeadersConfig, CachePolicyQueryStringBehavior, CachePolicyQueryStringsConfig, CachePolicyType,
    CachedMethods, CookiePreference, DefaultCacheBehavior, DistributionConfig, DistributionSummary, ForwardedValues,
    ItemSelection, LoggingConfig, Method, Origin, OriginAccessControlConfig, OriginAccessControlOriginTypes,
    OriginAccessControlSigningBehaviors, OriginAccessControlSigningProtocols, Origins,
    ParametersInCacheKeyAndForwardedToOrigin, ResponseHeadersPolicyAccessControlAllowHeaders,
    ResponseHeadersPolicyAccessControlAllowMethods, ResponseHeadersPolicyAccessControlAllowMethodsValues,
    ResponseHeadersPolicyAccessControlAllowOrigins, ResponseHeadersPolicyConfig, ResponseHeadersPolicyCorsConfig,
    ResponseHeadersPolicyType, S3OriginConfig, TrustedKeyGroups, ViewerProtocolPolicy,
};

use super::error::{api, ApiError, Failure};
use super::steps::{Check, Ctx, FoundDistribution, PolicyRef};
use super::{Action, StepReport};

/// The origin id of the media bucket in a distribution Streamdrop makes.
const ORIGIN_ID: &str = "streamdrop-media";
const DEFAULT_TTL: i64 = 86_400;
const MAX_TTL: i64 = 31_536_000;

fn unsupported_here(ctx: &Ctx, err: &ApiError) -> bool {
    ctx.custom_endpoint.is_some() && err.is_unimplemented()
}

// ---- origin access control ------------------------------------------------------

pub(super) struct OacState {
    id: Option<String>,
}

fn oac_config(ctx: &Ctx) -> OriginAccessControlConfig {
    OriginAccessControlConfig::builder()
        .name(&ctx.names.origin_access_control)
        .description(format!("Streamdrop: CloudFront reads {}", ctx.names.media_bucket))
        .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
        .signing_behavior(OriginAccessControlSigningBehaviors::Always)
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
        .build()
        .expect("the OAC config has its required fields")
}

pub(super) async fn check_oac(ctx: &mut Ctx) -> Result<Check<OacState>, Failure> {
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .cloudfront
            .list_origin_access_controls()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(api("cloudfront:ListOriginAccessControls"))?;
        let Some(list) = out.origin_access_control_list else { break };
        if let Some(found) = list.items().iter().find(|o| o.name() == ctx.names.origin_access_control) {
            let id = found.id().to_owned();
            ctx.found.oac_id = Some(id.clone());
            let right = found.signing_protocol() == &OriginAccessControlSigningProtocols::Sigv4
                && found.signing_behavior() == &OriginAccessControlSigningBehaviors::Always
                && found.origin_access_control_origin_type() == &OriginAccessControlOriginTypes::S3;
            if right {
                return Ok(Check::new(Action::Exists, vec![], OacState { id: Some(id) }));
            }
            return Ok(Check::new(
                Action::Update,
                vec!["sign every request to S3 with SigV4".into()],
                OacState { id: Some(id) },
            ));
        }
        match list.next_marker() {
            Some(next) if !next.is_empty() && Some(next) != marker.as_deref() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(Check::new(Action::Create, vec!["SigV4, always sign, S3 origin".into()], OacState { id: None }))
}

pub(super) async fn apply_oac(ctx: &mut Ctx, check: Check<OacState>) -> Result<(), Failure> {
    match check.state.id {
        None => {
            let out = ctx
                .cloudfront
                .create_origin_access_control()
                .origin_access_control_config(oac_config(ctx))
                .send()
                .await
                .map_err(api("cloudfront:CreateOriginAccessControl"))?;
            ctx.found.oac_id = out.origin_access_control().map(|o| o.id().to_owned());
        }
        Some(id) => {
            let current = ctx
                .cloudfront
                .get_origin_access_control()
                .id(&id)
                .send()
                .await
                .map_err(api("cloudfront:GetOriginAccessControl"))?;
            ctx.cloudfront
                .update_origin_access_control()
                .id(&id)
                .if_match(current.e_tag().unwrap_or_default())
                .origin_access_control_config(oac_config(ctx))
                .send()
                .await
                .map_err(api("cloudfront:UpdateOriginAccessControl"))?;
        }
    }
    Ok(())
}

// ---- cache policy -------------------------------------------------------------

pub(super) struct PolicyState {
    id: Option<String>,
}

fn cache_policy_config(ctx: &Ctx) -> CachePolicyConfig {
    let parameters = ParametersInCacheKeyAndForwardedToOrigin::builder()
        .enable_accept_encoding_gzip(true)
        .enable_accept_encoding_brotli(true)
        .headers_config(
            CachePolicyHeadersConfig::builder()
                .header_behavior(CachePolicyHeaderBehavior::None)
                .build()
                .expect("headers config"),
        )
        .cookies_config(
            CachePolicyCookiesConfig::builder()
                .cookie_behavior(CachePolicyCookieBehavior::None)
                .build()
                .expect("cookies config"),
        )
        .query_strings_config(
            CachePolicyQueryStringsConfig::builder()
                .query_string_behavior(CachePolicyQueryStringBehavior::None)
                .build()
                .expect("query strings config"),
        )
        .build()
        .expect("cache key parameters");
    CachePolicyConfig::builder()
        .name(&ctx.names.cache_policy)
        .comment("Streamdrop: signed media; the signature query string stays out of the cache key")
        .min_ttl(0)
        .default_ttl(DEFAULT_TTL)
        .max_ttl(MAX_TTL)
        .parameters_in_cache_key_and_forwarded_to_origin(parameters)
        .build()
        .expect("the cache policy config has its required fields")
}

fn cache_policy_ok(config: &CachePolicyConfig) -> bool {
    config.parameters_in_cache_key_and_forwarded_to_origin().is_some_and(|p| {
        p.query_strings_config().is_some_and(|q| q.query_string_behavior() == &CachePolicyQueryStringBehavior::None)
            && p.cookies_config().is_some_and(|c| c.cookie_behavior() == &CachePolicyCookieBehavior::None)
            && p.headers_config().is_some_and(|h| h.header_behavior() == &CachePolicyHeaderBehavior::None)
    })
}

pub(super) async fn check_cache_policy(ctx: &mut Ctx) -> Result<Check<PolicyState>, Failure> {
    let mut marker: Option<String> = None;
    loop {
        let result = ctx
            .cloudfront
            .list_cache_policies()
            .r#type(CachePolicyType::Custom)
            .set_marker(marker.clone())
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(err) => {
                let err = ApiError::from_sdk("cloudfront:ListCachePolicies", &err);
                if unsupported_here(ctx, &err) {
                    ctx.found.cache_policy = PolicyRef::Unsupported;
                    let details = vec![
                        "this endpoint does not implement CloudFront cache policies".into(),
                        "the distribution keeps query strings out of the cache key with forwarded values".into(),
                    ];
                    return Ok(Check::new(Action::Skip, details, PolicyState { id: None }));
                }
                return Err(Failure::Api(err));
            }
        };
        let Some(list) = out.cache_policy_list else { break };
        let found = list
            .items()
            .iter()
            .filter_map(|s| s.cache_policy())
            .find(|p| p.cache_policy_config().is_some_and(|c| c.name() == ctx.names.cache_policy));
        if let Some(policy) = found {
            let id = policy.id().to_owned();
            ctx.found.cache_policy = PolicyRef::Id(id.clone());
            if policy.cache_policy_config().is_some_and(cache_policy_ok) {
                return Ok(Check::new(Action::Exists, vec![], PolicyState { id: Some(id) }));
            }
            return Ok(Check::new(
                Action::Update,
                vec!["leave query strings, headers and cookies out of the cache key".into()],
                PolicyState { id: Some(id) },
            ));
        }
        match list.next_marker() {
            Some(next) if !next.is_empty() && Some(next) != marker.as_deref() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    ctx.found.cache_policy = PolicyRef::Missing;
    Ok(Check::new(
        Action::Create,
        vec!["no query strings (the URL signature), headers or cookies in the cache key".into()],
        PolicyState { id: None },
    ))
}

pub(super) async fn apply_cache_policy(ctx: &mut Ctx, check: Check<PolicyState>) -> Result<(), Failure> {
    let config = cache_policy_config(ctx);
    match check.state.id {
        None => {
            let out = ctx
                .cloudfront
                .create_cache_policy()
                .cache_policy_config(config)
                .send()
                .await
                .map_err(api("cloudfront:CreateCachePolicy"))?;
            let id = out.cache_policy().map(|p| p.id().to_owned()).unwrap_or_default();
            ctx.found.cache_policy = PolicyRef::Id(id);
        }
        Some(id) => {
            let current =
                ctx.cloudfront.get_cache_policy().id(&id).send().await.map_err(api("cloudfront:GetCachePolicy"))?;
            ctx.cloudfront
                .update_cache_policy()
                .id(&id)
                .if_match(current.e_tag().unwrap_or_default())
                .cache_policy_config(config)
                .send()
                .await
                .map_err(api("cloudfront:UpdateCachePolicy"))?;
        }
    }
    Ok(())
}

// ---- response headers policy ------------------------------------------------------

/// Any page may fetch what a link opens. A link is its own authority (signed,
/// expiring, and no cookie or credential rides along: `allow_credentials` is
/// off), so naming origins would protect nothing; it would only stop the
/// links playing in players on other sites (an embed, hls.js on a review
/// page) and depend on CloudFront accepting the webview's `tauri://` scheme.
const CORS_ORIGINS: [&str; 1] = ["*"];

const CORS_METHODS: [ResponseHeadersPolicyAccessControlAllowMethodsValues; 3] = [
    ResponseHeadersPolicyAccessControlAllowMethodsValues::Get,
    ResponseHeadersPolicyAccessControlAllowMethodsValues::Head,
    ResponseHeadersPolicyAccessControlAllowMethodsValues::Options,
];

fn response_headers_config(ctx: &Ctx) -> ResponseHeadersPolicyConfig {
    let cors = ResponseHeadersPolicyCorsConfig::builder()
        .access_control_allow_origins(
            ResponseHeadersPolicyAccessControlAllowOrigins::builder()
                .quantity(CORS_ORIGINS.len() as i32)
                .set_items(Some(CORS_ORIGINS.iter().map(|o| o.to_string()).collect()))
                .build()
                .expect("allow origins"),
        )
        .access_control_allow_headers(
            ResponseHeadersPolicyAccessControlAllowHeaders::builder()
                .quantity(1)
                .items("*")
                .build()
                .expect("allow headers"),
        )
        .access_control_allow_methods(
            ResponseHeadersPolicyAccessControlAllowMethods::builder()
                .quantity(CORS_METHODS.len() as i32)
                .set_items(Some(CORS_METHODS.to_vec()))
                .build()
                .expect("allow methods"),
        )
        .access_control_allow_credentials(false)
        .access_control_max_age_sec(600)
        .origin_override(true)
        .build()
        .expect("the CORS config has its required fields");
    ResponseHeadersPolicyConfig::builder()
        .name(&ctx.names.response_headers_policy)
        .comment("Streamdrop: CORS so signed links play in any player")
        .cors_config(cors)
        .build()
        .expect("the response headers policy config has its required fields")
}

fn cors_ok(config: &ResponseHeadersPolicyConfig) -> bool {
    let Some(cors) = config.cors_config() else { return false };
    let mut origins: Vec<&str> =
        cors.access_control_allow_origins().map(|o| o.items().iter().map(String::as_str).collect()).unwrap_or_default();
    origins.sort_unstable();
    let mut wanted = CORS_ORIGINS.to_vec();
    wanted.sort_unstable();
    let methods = cors.access_control_allow_methods().map(|m| m.items().to_vec()).unwrap_or_default();
    origins == wanted && CORS_METHODS.iter().all(|m| methods.contains(m))
}

pub(super) async fn check_response_headers_policy(ctx: &mut Ctx) -> Result<Check<PolicyState>, Failure> {
    let mut marker: Option<String> = None;
    loop {
        let result = ctx
            .cloudfront
            .list_response_headers_policies()
            .r#type(ResponseHeadersPolicyType::Custom)
            .set_marker(marker.clone())
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(err) => {
                let err = ApiError::from_sdk("cloudfront:ListResponseHeadersPolicies", &err);
                if unsupported_here(ctx, &err) {
                    ctx.found.response_headers_policy = PolicyRef::Unsupported;
                    let details = vec!["this endpoint does not implement CloudFront response headers policies".into()];
                    return Ok(Check::new(Action::Skip, details, PolicyState { id: None }));
                }
                return Err(Failure::Api(err));
            }
        };
        let Some(list) = out.response_headers_policy_list else { break };
        let found = list.items().iter().filter_map(|s| s.response_headers_policy()).find(|p| {
            p.response_headers_policy_config().is_some_and(|c| c.name() == ctx.names.response_headers_policy)
        });
        if let Some(policy) = found {
            let id = policy.id().to_owned();
            ctx.found.response_headers_policy = PolicyRef::Id(id.clone());
            if policy.response_headers_policy_config().is_some_and(cors_ok) {
                return Ok(Check::new(Action::Exists, vec![], PolicyState { id: Some(id) }));
            }
            return Ok(Check::new(
                Action::Update,
                vec![format!("CORS: allow {} (GET, HEAD, OPTIONS)", CORS_ORIGINS.join(", "))],
                PolicyState { id: Some(id) },
            ));
        }
        match list.next_marker() {
            Some(next) if !next.is_empty() && Some(next) != marker.as_deref() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    ctx.found.response_headers_policy = PolicyRef::Missing;
    Ok(Check::new(
        Action::Create,
        vec![format!("CORS: allow {} (GET, HEAD, OPTIONS)", CORS_ORIGINS.join(", "))],
        PolicyState { id: None },
    ))
}

pub(super) async fn apply_response_headers_policy(ctx: &mut Ctx, check: Check<PolicyState>) -> Result<(), Failure> {
    let config = response_headers_config(ctx);
    match check.state.id {
        None => {
            let out = ctx
                .cloudfront
                .create_response_headers_policy()
                .response_headers_policy_config(config)
                .send()
                .await
                .map_err(api("cloudfront:CreateResponseHeadersPolicy"))?;
            let id = out.response_headers_policy().map(|p| p.id().to_owned()).unwrap_or_default();
            ctx.found.response_headers_policy = PolicyRef::Id(id);
        }
        Some(id) => {
            let current = ctx
                .cloudfront
                .get_response_headers_policy()
                .id(&id)
                .send()
                .await
                .map_err(api("cloudfront:GetResponseHeadersPolicy"))?;
            ctx.cloudfront
                .update_response_headers_policy()
                .id(&id)
                .if_match(current.e_tag().unwrap_or_default())
                .response_headers_policy_config(config)
                .send()
                .await
                .map_err(api("cloudfront:UpdateResponseHeadersPolicy"))?;
        }
    }
    Ok(())
}

// ---- distribution -------------------------------------------------------------

pub(super) struct DistributionState {
    /// An existing distribution: its config and ETag, to update.
    existing: Option<(String, DistributionConfig, String)>,
}

fn is_our_origin(ctx: &Ctx, origin: &Origin) -> bool {
    let regional = ctx.media_origin_domain();
    let global = format!("{}.s3.amazonaws.com", ctx.names.media_bucket);
    origin.domain_name().eq_ignore_ascii_case(&regional) || origin.domain_name().eq_ignore_ascii_case(&global)
}

fn has_our_origin(ctx: &Ctx, origins: Option<&Origins>) -> bool {
    origins.is_some_and(|o| o.items().iter().any(|origin| is_our_origin(ctx, origin)))
}

/// The distribution with the media bucket as origin: the remembered one, else
/// the first. (Found by listing: moto's server answers GetDistribution in a form
/// the SDK cannot read.)
pub(super) async fn find_distribution(ctx: &Ctx) -> Result<Option<FoundDistribution>, Failure> {
    let ours: Vec<FoundDistribution> = all_distributions(ctx)
        .await?
        .iter()
        .filter(|d| has_our_origin(ctx, d.origins()))
        .map(|d| FoundDistribution {
            id: d.id().to_owned(),
            arn: d.arn().to_owned(),
            domain: d.domain_name().to_owned(),
        })
        .collect();
    let known = ours.iter().position(|d| ctx.known_distribution_id.as_deref() == Some(d.id.as_str()));
    Ok(known.or((!ours.is_empty()).then_some(0)).map(|i| ours[i].clone()))
}

/// Every distribution of the account, all pages of the listing.
async fn all_distributions(ctx: &Ctx) -> Result<Vec<DistributionSummary>, Failure> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .cloudfront
            .list_distributions()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(api("cloudfront:ListDistributions"))?;
        let Some(list) = out.distribution_list else { return Ok(all) };
        all.extend(list.items().iter().cloned());
        match list.next_marker() {
            Some(next) if list.is_truncated() && !next.is_empty() && Some(next) != marker.as_deref() => {
                marker = Some(next.to_owned())
            }
            _ => return Ok(all),
        }
    }
}

/// What differs between `config` and what Streamdrop needs; empty when nothing.
fn drift(ctx: &Ctx, config: &DistributionConfig) -> Vec<String> {
    let mut changes = Vec::new();
    let origin = config.origins().and_then(|o| o.items().iter().find(|origin| is_our_origin(ctx, origin)));
    if let Some(origin) = origin {
        // AWS always reports the origin's OAC id (empty when none); moto's
        // server never does, so "not reported" is not a difference.
        if let Some(reported) = origin.origin_access_control_id() {
            if ctx.found.oac_id.as_deref() != Some(reported) {
                changes
                    .push(format!("read the bucket through origin access control {}", ctx.names.origin_access_control));
            }
        }
        if origin.s3_origin_config().is_some_and(|s| !s.origin_access_identity().is_empty()) {
            changes.push("replace the legacy origin access identity with the origin access control".into());
        }
    }
    let behavior = config.default_cache_behavior();
    let trusted = behavior.and_then(|b| b.trusted_key_groups());
    let trusts_ours = match &ctx.found.key_group_id {
        Some(id) => trusted.is_some_and(|t| t.enabled() && t.items().iter().any(|item| item == id)),
        None => false,
    };
    if !trusts_ours {
        changes.push(format!("trust key group {} (signed URLs only)", ctx.names.key_group));
    }
    if behavior.map(|b| b.target_origin_id()) != origin.map(|o| o.id()) {
        changes.push("serve the media bucket by default".into());
    }
    match &ctx.found.cache_policy {
        PolicyRef::Unsupported => {}
        wanted => {
            if behavior.and_then(|b| b.cache_policy_id()).filter(|id| !id.is_empty()) != wanted.id() {
                changes.push(format!("use cache policy {}", ctx.names.cache_policy));
            }
        }
    }
    match &ctx.found.response_headers_policy {
        PolicyRef::Unsupported => {}
        wanted => {
            if behavior.and_then(|b| b.response_headers_policy_id()).filter(|id| !id.is_empty()) != wanted.id() {
                changes.push(format!("use response headers policy {}", ctx.names.response_headers_policy));
            }
        }
    }
    let https = behavior.map(|b| b.viewer_protocol_policy());
    if !matches!(https, Some(ViewerProtocolPolicy::RedirectToHttps | ViewerProtocolPolicy::HttpsOnly)) {
        changes.push("HTTPS only (redirect HTTP)".into());
    }
    let methods = behavior.and_then(|b| b.allowed_methods()).map(|m| m.items().to_vec()).unwrap_or_default();
    if !methods.contains(&Method::Options) {
        changes.push("allow OPTIONS (CORS preflight)".into());
    }
    if !config.enabled() {
        changes.push("enable it".into());
    }
    changes
}

pub(super) async fn check_distribution(ctx: &mut Ctx) -> Result<Check<DistributionState>, Failure> {
    let Some(found) = find_distribution(ctx).await? else {
        ctx.found.distribution = None;
        let details = vec![
            format!("origin {} through the origin access control", ctx.media_origin_domain()),
            format!("signed URLs only (key group {})", ctx.names.key_group),
            "HTTPS".into(),
        ];
        return Ok(Check::new(Action::Create, details, DistributionState { existing: None }));
    };
    let (config, etag) = config_of(ctx, &found.id).await?;
    let changes = drift(ctx, &config);
    let id = found.id.clone();
    let mut details = vec![format!("{} ({})", found.domain, found.id)];
    ctx.found.distribution = Some(found);
    if changes.is_empty() {
        return Ok(Check::new(Action::Exists, details, DistributionState { existing: Some((id, config, etag)) }));
    }
    details.extend(changes);
    Ok(Check::new(Action::Update, details, DistributionState { existing: Some((id, config, etag)) }))
}

fn allowed_methods() -> AllowedMethods {
    AllowedMethods::builder()
        .quantity(3)
        .set_items(Some(vec![Method::Get, Method::Head, Method::Options]))
        .cached_methods(
            CachedMethods::builder()
                .quantity(2)
                .set_items(Some(vec![Method::Get, Method::Head]))
                .build()
                .expect("cached methods"),
        )
        .build()
        .expect("allowed methods")
}

fn trusted_key_groups(ids: Vec<String>) -> TrustedKeyGroups {
    TrustedKeyGroups::builder()
        .enabled(true)
        .quantity(ids.len() as i32)
        .set_items(Some(ids))
        .build()
        .expect("trusted key groups")
}

/// Without a cache policy (an endpoint that has none): the legacy way to keep
/// the query string out of the cache key.
fn legacy_forwarding() -> ForwardedValues {
    ForwardedValues::builder()
        .query_string(false)
        .cookies(CookiePreference::builder().forward(ItemSelection::None).build().expect("cookie preference"))
        .build()
        .expect("forwarded values")
}

fn key_group_id(ctx: &Ctx) -> Result<String, Failure> {
    ctx.found
        .key_group_id
        .clone()
        .ok_or_else(|| Failure::Blocked("the signing key group is not known yet (its step did not finish)".into()))
}

fn oac_id(ctx: &Ctx) -> Result<String, Failure> {
    ctx.found
        .oac_id
        .clone()
        .ok_or_else(|| Failure::Blocked("the origin access control is not known yet (its step did not finish)".into()))
}

// The legacy TTL and forwarding fields are used on purpose, for endpoints without cache policies.
#[allow(deprecated)]
fn new_config(ctx: &Ctx) -> Result<DistributionConfig, Failure> {
    let origin = Origin::builder()
        .id(ORIGIN_ID)
        .domain_name(ctx.media_origin_domain())
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .origin_access_control_id(oac_id(ctx)?)
        .build()
        .expect("origin");
    let mut behavior = DefaultCacheBehavior::builder()
        .target_origin_id(ORIGIN_ID)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .trusted_key_groups(trusted_key_groups(vec![key_group_id(ctx)?]))
        .allowed_methods(allowed_methods())
        .compress(true)
        // AWS's defaults, spelled out: moto's server otherwise answers these
        // as Python's `True`/`False`, which no SDK reads back.
        .smooth_streaming(false);
    behavior = match ctx.found.cache_policy.id() {
        Some(id) => behavior.cache_policy_id(id),
        None => behavior.forwarded_values(legacy_forwarding()).min_ttl(0).default_ttl(DEFAULT_TTL).max_ttl(MAX_TTL),
    };
    if let Some(id) = ctx.found.response_headers_policy.id() {
        behavior = behavior.response_headers_policy_id(id);
    }
    Ok(DistributionConfig::builder()
        .caller_reference(uuid::Uuid::new_v4().to_string())
        .comment(&ctx.names.distribution_comment)
        .enabled(true)
        .logging(LoggingConfig::builder().enabled(false).include_cookies(false).bucket("").prefix("").build())
        .origins(Origins::builder().quantity(1).items(origin).build().expect("origins"))
        .default_cache_behavior(behavior.build().expect("default cache behavior"))
        .build()
        .expect("the distribution config has its required fields"))
}

/// `config` with what Streamdrop needs, everything else as it was.
#[allow(deprecated)]
fn fixed_config(ctx: &Ctx, mut config: DistributionConfig) -> Result<DistributionConfig, Failure> {
    let oac = oac_id(ctx)?;
    let key_group = key_group_id(ctx)?;
    let mut origin_id = ORIGIN_ID.to_owned();
    if let Some(origins) = config.origins.as_mut() {
        for origin in origins.items.iter_mut().filter(|o| is_our_origin(ctx, o)) {
            origin.origin_access_control_id = Some(oac.clone());
            origin.s3_origin_config = Some(S3OriginConfig::builder().origin_access_identity("").build());
            origin_id = origin.id.clone();
        }
    }
    let behavior = config
        .default_cache_behavior
        .as_mut()
        .ok_or_else(|| Failure::Blocked("the distribution has no default cache behaviour".into()))?;
    behavior.target_origin_id = origin_id;
    let mut groups: Vec<String> =
        behavior.trusted_key_groups.as_ref().filter(|t| t.enabled()).map(|t| t.items().to_vec()).unwrap_or_default();
    if !groups.contains(&key_group) {
        groups.push(key_group);
    }
    behavior.trusted_key_groups = Some(trusted_key_groups(groups));
    if !matches!(
        behavior.viewer_protocol_policy,
        ViewerProtocolPolicy::RedirectToHttps | ViewerProtocolPolicy::HttpsOnly
    ) {
        behavior.viewer_protocol_policy = ViewerProtocolPolicy::RedirectToHttps;
    }
    if !behavior.allowed_methods.as_ref().is_some_and(|m| m.items().contains(&Method::Options)) {
        behavior.allowed_methods = Some(allowed_methods());
    }
    if let Some(id) = ctx.found.cache_policy.id() {
        behavior.cache_policy_id = Some(id.to_owned());
        // A behaviour has a cache policy or the legacy settings, never both.
        behavior.forwarded_values = None;
        behavior.min_ttl = None;
        behavior.default_ttl = None;
        behavior.max_ttl = None;
    }
    if let Some(id) = ctx.found.response_headers_policy.id() {
        behavior.response_headers_policy_id = Some(id.to_owned());
    }
    config.enabled = true;
    Ok(config)
}

pub(super) async fn apply_distribution(ctx: &mut Ctx, check: Check<DistributionState>) -> Result<(), Failure> {
    match check.state.existing {
        None => {
            let config = new_config(ctx)?;
            let created = ctx.cloudfront.create_distribution().distribution_config(config).send().await;
            let found = match created {
                Ok(out) => out.distribution().map(|d| FoundDistribution {
                    id: d.id().to_owned(),
                    arn: d.arn().to_owned(),
                    domain: d.domain_name().to_owned(),
                }),
                Err(err) => {
                    let err = ApiError::from_sdk("cloudfront:CreateDistribution", &err);
                    // "Did it happen?": the answer was lost or unreadable (moto
                    // names its root element CreateDistributionResult), so look.
                    let maybe_created = err.status.is_none_or(|s| (200..300).contains(&s));
                    match maybe_created {
                        true => match find_distribution(ctx).await? {
                            Some(found) => Some(found),
                            None => return Err(Failure::Api(err)),
                        },
                        false => return Err(Failure::Api(err)),
                    }
                }
            };
            let found =
                found.ok_or_else(|| Failure::Blocked("CreateDistribution answered without the distribution".into()))?;
            ctx.found.distribution = Some(found);
        }
        Some((id, config, etag)) => {
            let config = fixed_config(ctx, config)?;
            let updated =
                ctx.cloudfront.update_distribution().id(&id).if_match(etag).distribution_config(config).send().await;
            if let Err(err) = updated {
                let err = ApiError::from_sdk("cloudfront:UpdateDistribution", &err);
                // "Did it happen?": an answer that was lost or unreadable (moto
                // writes booleans as Python's True/False there), so look.
                if !err.status.is_none_or(|s| (200..300).contains(&s)) {
                    return Err(Failure::Api(err));
                }
                let now = ctx
                    .cloudfront
                    .get_distribution_config()
                    .id(&id)
                    .send()
                    .await
                    .map_err(api("cloudfront:GetDistributionConfig"))?;
                if now.distribution_config().is_none_or(|c| !drift(ctx, c).is_empty()) {
                    return Err(Failure::Api(err));
                }
            }
        }
    }
    Ok(())
}

/// Distribution `id`'s config and the ETag a change must name.
pub(super) async fn config_of(ctx: &Ctx, id: &str) -> Result<(DistributionConfig, String), Failure> {
    let out = ctx
        .cloudfront
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .map_err(api("cloudfront:GetDistributionConfig"))?;
    let etag = out.e_tag().unwrap_or_default().to_owned();
    let config = out
        .distribution_config
        .ok_or_else(|| Failure::Blocked(format!("distribution {id} answered without its config")))?;
    Ok((config, etag))
}

// ---- deployment ------------------------------------------------------------------

/// How the distribution's deployment stands, as the last step: `exists
/// (deployed)`, or `later` while CloudFront is still spreading it (after a
/// create, an update or a new key), when links on the connection do not work
/// yet. An apply asked to wait polls until it is deployed or the wait is over.
pub(super) async fn deployment(ctx: &mut Ctx) -> Result<StepReport, Failure> {
    let mut report = StepReport {
        step: "deployment",
        action: Action::Later,
        resource: "cloudfront deployment",
        name: String::new(),
        details: vec!["CloudFront deploys the distribution over a few minutes once it is made".into()],
        applied: false,
    };
    let Some(id) = ctx.found.distribution.as_ref().map(|d| d.id.clone()) else { return Ok(report) };
    report.name = id.clone();
    let deadline =
        ctx.wait_for_deployment.filter(|_| ctx.applying()).map(|wait| (std::time::Instant::now() + wait, wait));
    loop {
        let status = distribution_status(ctx, &id).await?.unwrap_or_default();
        if status == "Deployed" {
            report.action = Action::Exists;
            report.details = vec!["deployed".into()];
            if let Some(key) = &ctx.found.next_key_pair_id {
                ctx.found.next_key_live = ctx.applying();
                report.details.push(match ctx.applying() {
                    true => format!("the new signing key {key} is live: links are signed with it from now on"),
                    false => format!("the new signing key {key} is live: the next apply (or link) starts using it"),
                });
            }
            report.applied = ctx.applying();
            return Ok(report);
        }
        match deadline {
            Some((until, wait)) if std::time::Instant::now() < until => {
                // A tenth of the wait, at most 15 s: CloudFront takes minutes.
                tokio::time::sleep((wait / 10).min(std::time::Duration::from_secs(15))).await;
            }
            _ => {
                report.details = vec![format!(
                    "deploying (CloudFront says {status}): links on this connection work once it has deployed, \
                     usually within minutes; `streamdrop setup --plan` shows when"
                )];
                return Ok(report);
            }
        }
    }
}

async fn distribution_status(ctx: &Ctx, id: &str) -> Result<Option<String>, Failure> {
    crate::credentials::cloudfront_key::distribution_status(&ctx.cloudfront, id)
        .await
        .map_err(api("cloudfront:ListDistributions"))
}
