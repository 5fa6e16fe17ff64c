//! What went wrong in a step, said so that it can be fixed: the step, the
//! API action (as IAM names it, e.g. `iam:CreateRole`) and, for a denial, that
//! a re-run continues where this one stopped.

use std::fmt;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::credentials::SecretStoreError;

/// The text of the first `<name>…</name>` in `xml`, entities decoded.
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    let text = xml[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// An error and its causes, each as its `Display` ("dispatch failure: io error: …"),
/// without the raw response the SDK's `Debug` would add.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// One failed API call, reduced to what decisions and messages need.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The IAM action of the call, e.g. `s3:PutLifecycleConfiguration`.
    pub action: &'static str,
    pub code: Option<String>,
    pub message: Option<String>,
    pub status: Option<u16>,
    /// The SDK's full description (with its causes).
    pub text: String,
}

/// Error codes with which AWS refuses a call for lack of permission.
const DENIED_CODES: &[&str] = &["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"];

impl ApiError {
    pub fn from_sdk<E>(action: &'static str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let mut code = err.code().map(str::to_owned);
        let mut message = err.message().map(str::to_owned);
        if code.is_none() && message.is_none() {
            // An error body the SDK could not read (moto's IAM errors have an
            // extra <Errors> level): take <Code> and <Message> from it as text.
            if let Some(body) = err.raw_response().and_then(|r| r.body().bytes()) {
                if body.len() < 64 * 1024 {
                    let text = String::from_utf8_lossy(body);
                    code = xml_element(&text, "Code");
                    message = xml_element(&text, "Message");
                }
            }
        }
        Self { action, code, message, status, text: error_chain(err) }
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// A refusal for lack of permission (403 without another explanation).
    pub fn is_denied(&self) -> bool {
        self.code.as_deref().is_some_and(|c| DENIED_CODES.contains(&c))
            || (self.status == Some(403)
                && self.code.as_deref().is_none_or(|c| c == "InvalidClientTokenId" || c == "Forbidden"))
    }

    /// The endpoint has no such API at all: a bare 404 with no AWS error
    /// code, as moto's server answers for CloudFront policies it does not
    /// implement. AWS itself always names a 404 (`NoSuchCachePolicy`, …).
    pub fn is_unimplemented(&self) -> bool {
        self.status == Some(404) && self.code.is_none()
    }

    /// `AccessDenied: User … is not authorized to perform …`, or the SDK's text.
    pub fn summary(&self) -> String {
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.clone(),
            (None, Some(message)) => message.clone(),
            (None, None) => match self.status {
                Some(status) => format!("HTTP {status}: {}", self.text),
                None => self.text.clone(),
            },
        }
    }
}

/// Why a step could not finish.
#[derive(Debug, Clone)]
pub enum Failure {
    /// An API call failed.
    Api(ApiError),
    /// The keychain could not be used.
    Keychain(SecretStoreError),
    /// Something a person must decide or do; the text says what.
    Blocked(String),
}

impl From<SecretStoreError> for Failure {
    fn from(err: SecretStoreError) -> Self {
        Failure::Keychain(err)
    }
}

/// Builds the `map_err` for a call: `.map_err(api("iam:CreateRole"))`.
pub(crate) fn api<E>(action: &'static str) -> impl Fn(SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |err| Failure::Api(ApiError::from_sdk(action, &err))
}

/// A step's failure, as shown to people: "creating the MediaConvert service
/// role streamdrop-acme-mediaconvert: access denied …".
#[derive(Debug, Clone, thiserror::Error)]
pub struct StepError {
    /// Which step (`mediaconvert-role`).
    pub step: &'static str,
    /// What it was doing: "creating the MediaConvert service role streamdrop-acme-mediaconvert".
    pub doing: String,
    pub failure: Failure,
}

impl StepError {
    /// The IAM action that was refused, if this is a permission problem.
    pub fn denied_action(&self) -> Option<&'static str> {
        match &self.failure {
            Failure::Api(err) if err.is_denied() => Some(err.action),
            _ => None,
        }
    }

    /// The IAM action of the failed call, if an API call failed.
    pub fn action(&self) -> Option<&'static str> {
        match &self.failure {
            Failure::Api(err) => Some(err.action),
            _ => None,
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::Api(err) if err.is_denied() => write!(
                f,
                "{}: permission denied: these credentials may not call {} ({}). Grant {} to them and run \
                 `streamdrop setup --apply` again: it keeps what is done and continues from this step.",
                self.doing,
                err.action,
                err.summary(),
                err.action
            ),
            Failure::Api(err) => write!(
                f,
                "{}: {} failed: {}. Run `streamdrop setup --apply` again once it is fixed: it continues from this step.",
                self.doing,
                err.action,
                err.summary()
            ),
            Failure::Keychain(err) => write!(f, "{}: {err}", self.doing),
            Failure::Blocked(text) => write!(f, "{}: {text}", self.doing),
        }
    }
}
