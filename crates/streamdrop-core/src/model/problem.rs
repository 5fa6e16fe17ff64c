//! What went wrong, said to a person.
//!
//! A [`Problem`] is a stable [`ProblemCode`] (which the UI and the CLI can
//! translate, and tests can match), the parameters of its sentence, and the raw
//! detail behind "Details" / `--verbose`. The English sentence is made from the
//! code's template, so the store keeps codes and parameters, never only prose.
//! Every sentence says what happened and what to do; internals (SDK dumps,
//! ffmpeg logs, URLs) only ever go in the detail, and [`redact`] takes
//! credentials and signatures out of it first.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What a person can do about a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Remedy {
    /// Running the failed stage again can work (a network blip, a fixed permission).
    Retry,
    /// The file must be read anew: it changed, or was still being copied.
    AddAgain,
    /// Nothing Streamdrop can do will help with this file.
    None,
}

macro_rules! problem_codes {
    ($($variant:ident = $code:literal, $remedy:ident, $template:literal;)*) => {
        /// Every kind of problem a person can be told about. The kebab-case
        /// code is stable: it is stored, sent to the UI and printed by the CLI.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
        pub enum ProblemCode {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl ProblemCode {
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(ProblemCode::$variant => $code,)* }
            }

            pub fn remedy(self) -> Remedy {
                match self { $(ProblemCode::$variant => Remedy::$remedy,)* }
            }

            /// The English sentence, with `{name}` where a parameter goes.
            pub fn template(self) -> &'static str {
                match self { $(ProblemCode::$variant => $template,)* }
            }
        }
    };
}

problem_codes! {
    // The user's file.
    FileNotFound = "file-not-found", None,
        "{file} was not found. Check the name and where it is, then add it again.";
    FileMissing = "file-missing", Retry,
        "{file} is no longer where it was added. Reconnect the card or put the file back: the upload resumes by itself from where it stopped.";
    FileUnreadable = "file-unreadable", Retry,
        "Streamdrop cannot read {file}. Check that you may open it, then retry.";
    FileChanged = "file-changed", AddAgain,
        "{file} changed after it was added — it may still be copying from the card. Add it again once the copy has finished.";
    FileChangedWhileUploading = "file-changed-while-uploading", AddAgain,
        "{file} changed while it was being uploaded — it may still be copying from the card. Add it again once it is complete.";
    FileChangedSinceUploadBegan = "file-changed-since-upload-began", AddAgain,
        "{file} changed since its upload began, so what was sent belongs to another version. Upload it again from the start (--restart).";
    FileTruncated = "file-truncated", AddAgain,
        "{file} ends early — it may still be copying from the card. Add it again once the copy has finished.";
    FileEmpty = "file-empty", None,
        "{file} is empty: there is no video in it.";
    FileTooLarge = "file-too-large", None,
        "{file} is larger than 5 TiB, the most one S3 object can hold.";
    NotAFile = "not-a-file", None,
        "{file} is not a regular file (a device, socket or pipe). Drop the video files themselves.";
    Folder = "folder", None,
        "{file} is a folder. Drop the video files inside it instead.";
    FolderWithoutVideo = "folder-without-video", None,
        "{file} has no video files. Drop a folder or card that holds clips.";
    FolderLoop = "folder-loop", None,
        "{file} leads back to a folder already being read (a link loop), so it was read only once.";
    AlreadyAdded = "already-added", None,
        "Some of these files are already on this connection ({count}, among them {file}), so nothing was added. Skip them, or choose to upload them again.";
    NotMedia = "not-media", None,
        "{file} is not a video or audio file Streamdrop can read.";
    StillImage = "still-image", None,
        "{file} is a still image, not a video.";
    CameraRaw = "camera-raw", None,
        "{file} is {format}, which Streamdrop cannot convert to a stream. Export it as ProRes or H.264 (in {tool}, for example) and add that file.";
    Playlist = "playlist", None,
        "{file} is a playlist that points to other files, not a video file. Add the video files themselves.";
    ProbeTimeout = "probe-timeout", Retry,
        "Streamdrop could not read {file} within a minute — the drive may be slow or failing. Retry once it responds.";
    FfmpegMissing = "ffmpeg-missing", Retry,
        "Streamdrop needs ffmpeg to check and convert videos, and it is not installed. Install ffmpeg, then retry.";
    // Storage (S3, the embedded server, S3-compatible services).
    StorageDenied = "storage-denied", Retry,
        "The storage refused Streamdrop's request (access denied). Check the connection's keys and permissions (streamdrop setup --permissions lists them), then retry.";
    StorageUnreachable = "storage-unreachable", Retry,
        "Streamdrop could not reach the storage. Check the network connection, then retry.";
    StorageBadReply = "storage-bad-reply", Retry,
        "The storage sent a reply Streamdrop could not read. Retry; if it keeps happening, the server may not be S3-compatible.";
    StorageError = "storage-error", Retry,
        "The storage could not {action} ({code}). Retry; if it keeps failing, see Details.";
    NotIntact = "not-intact", Retry,
        "The upload did not arrive intact, so it was not kept. Retry to send it again.";
    // Transcoding.
    TranscodeFailed = "transcode-failed", Retry,
        "{backend} could not convert {file}. See Details; retry if the cause has passed.";
    TranscodeStalled = "transcode-stalled", Retry,
        "The conversion of {file} stopped making progress and was stopped. Retry it.";
    TranscoderUnreachable = "transcoder-unreachable", Retry,
        "Streamdrop could not reach {backend}. Check the network connection, then retry.";
    TranscoderRejected = "transcoder-rejected", Retry,
        "{backend} refused the job. See Details for why; retry once it is fixed.";
    TranscoderDenied = "transcoder-denied", Retry,
        "{backend} refused this connection: its keys were not accepted or lack a permission. Check the connection and its IAM permissions (Details name what was refused), then retry.";
    TranscoderUnavailable = "transcoder-unavailable", None,
        "{backend} cannot be used on this connection. Choose another transcoder for it.";
    // Asking for something that cannot be done now, or at all.
    LinkNotRevocable = "link-not-revocable", None,
        "This {kind} link opens one file, and CloudFront cannot take a signature back: it works until it expires ({expires}). Stream links can be revoked; share streams when you may need to take them back.";
    LinkRevokeUnconfirmed = "link-revoke-unconfirmed", Retry,
        "The link is revoked and its playlists are deleted, but CloudFront did not confirm it dropped its cached copies (see Details). They leave its caches within a minute; retry to ask again.";
    LinkNotFound = "link-not-found", None,
        "There is no link {link}. List a job's links (streamdrop links JOB_ID) to see which there are.";
    JobNotFound = "job-not-found", None,
        "There is no job {job}. List the jobs to see which there are.";
    NotNow = "not-now", None,
        "The job is {state}, so it cannot be {action}.";
    OtherConnection = "other-connection", None,
        "This job belongs to connection {connection}. Switch to that connection to act on it.";
    NoEngine = "no-engine", None,
        "Nothing is running jobs on this data folder. Open the app or start streamdrop serve, then try again.";
    Busy = "busy", None,
        "Another Streamdrop is already running on this data folder. Close it, or use another data folder.";
    ConnectionNotFound = "connection-not-found", None,
        "There is no connection named {connection}. List the connections to see which there are.";
    ConnectionExists = "connection-exists", None,
        "A connection named {connection} already exists. Choose another name, or remove that one first.";
    LocalIsFixed = "local-is-fixed", None,
        "The Local connection is built in: it cannot be added, changed or set up.";
    BadConnectionName = "bad-connection-name", None,
        "{reason}. Choose another name.";
    NotSetUp = "not-set-up", None,
        "Connection {connection} is not set up yet. Run setup for it first.";
    SetupCannotStart = "setup-cannot-start", None,
        "Setup cannot start: {reason}.";
    SetupDenied = "setup-denied", Retry,
        "Setup stopped while {doing}: these credentials may not call {action}. Add the statement shown to them in IAM (or ask your admin), then apply again; setup continues from here.";
    SetupStepFailed = "setup-step-failed", Retry,
        "Setup stopped while {doing}. Apply again once the cause (see Details) is fixed; setup keeps what is done and continues from here.";
    BadPreference = "bad-preference", None,
        "{rule} Change it, then save again.";
    BadRegion = "bad-region", None,
        "{region} is not an AWS region name. Use one such as us-east-1 or ap-northeast-1.";
    BadEndpoint = "bad-endpoint", None,
        "{endpoint} is not an endpoint address. Give a URL such as https://s3.example.com, or leave it empty for AWS.";
    SettingsUnreadable = "settings-unreadable", None,
        "Streamdrop could not read or write its settings. See Details; fix or remove the settings file, then try again.";
    // Keys, the keychain, AWS.
    NoKeychain = "no-keychain", None,
        "This computer has no keychain Streamdrop can use. Start one (GNOME Keyring or KWallet) and unlock it, or use an AWS profile instead of keys.";
    KeychainRefused = "keychain-refused", Retry,
        "The keychain refused Streamdrop's request. Unlock it, then try again.";
    BadKeys = "bad-keys", None,
        "An access key needs both its id and its secret, without spaces. Check them and try again.";
    MissingKeys = "missing-keys", None,
        "The access key of connection {connection} is not in this computer's keychain. Add the connection again with its key.";
    MissingSigningKey = "missing-signing-key", None,
        "This computer's keychain has no signing key for connection {connection}, so links cannot be made here. Run setup on this computer to add one.";
    SigningKeyDeploying = "signing-key-deploying", Retry,
        "Connection {connection} has a new signing key that CloudFront is still deploying. Links work once it is live, usually within 15 minutes; try again then.";
    NotSkipped = "not-skipped", None,
        "{file} was not left out as already uploaded, so it cannot be added this way. Drop it on the window instead.";
    SsoExpired = "sso-expired", Retry,
        "The AWS sign-in (IAM Identity Center) of connection {connection} has expired. Sign in again with `aws sso login --profile` and its profile, then retry.";
    NoSuchProfile = "no-such-profile", None,
        "Connection {connection} names an AWS profile that ~/.aws/config does not define. Check the profile's name, or set it up with `aws configure sso`.";
    AwsKeysRefused = "aws-keys-refused", None,
        "AWS did not accept the access key of connection {connection}: it is wrong, deleted or inactive. Remove the connection and add it with a working key.";
    AwsUnreachable = "aws-unreachable", Retry,
        "Streamdrop could not reach AWS with connection {connection}. Check the network and the connection's keys, then try again.";
    // Links.
    LinkNotReady = "link-not-ready", None,
        "This job is not ready yet: links can be made once it has been converted.";
    BadLifetime = "bad-lifetime", None,
        "A link can last from one second to 365 days. Choose a lifetime in that range.";
    NoPoster = "no-poster", None,
        "This job has no poster: audio has no picture to take one from.";
    PreviewIsTheApps = "preview-is-the-apps", None,
        "Preview links are made by the app's player. Choose a stream, poster or original link.";
    LinkFailed = "link-failed", Retry,
        "The link could not be made. See Details; try again once the cause has passed.";
    ClipboardFailed = "clipboard-failed", Retry,
        "The text could not be put on the clipboard. Try again, or select the link and copy it by hand.";
    CannotShowFile = "cannot-show-file", None,
        "Streamdrop could not open a file manager. The file is {file}: open it from a file manager or a terminal.";
    // Streamdrop itself.
    KeychainUnavailable = "keychain-unavailable", None,
        "The keychain could not be opened, so links made now stop working when Streamdrop quits. To keep them working, unlock the keychain and start Streamdrop again.";
    LinksUnavailable = "links-unavailable", None,
        "Links cannot be made on this computer for this connection; jobs still run. Details say what is missing.";
    DataDir = "data-dir", Retry,
        "Streamdrop could not write to its data folder (is the disk full?). Free some space, then retry.";
    Internal = "internal", Retry,
        "Something went wrong inside Streamdrop. Retry; if it happens again, copy the details into a bug report.";
    Legacy = "legacy", Retry,
        "This job failed in an earlier version of Streamdrop. Retry it; Details has what that version said.";
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem: its code, the values of its sentence's parameters, and the
/// redacted raw detail. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: ProblemCode,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The most detail kept: enough for a bug report, never a whole response body.
const MAX_DETAIL: usize = 4000;

impl Problem {
    pub fn new(code: ProblemCode) -> Self {
        Self { code, params: BTreeMap::new(), detail: None }
    }

    /// Sets the parameter `name` of the sentence.
    pub fn with(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }

    /// Keeps `raw` (an SDK error, a log line) behind "Details", redacted.
    pub fn detail(mut self, raw: impl fmt::Display) -> Self {
        let mut text = redact(&raw.to_string());
        if text.len() > MAX_DETAIL {
            let cut = (0..=MAX_DETAIL).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            text.truncate(cut);
            text.push_str(" …");
        }
        self.detail = Some(text).filter(|t| !t.trim().is_empty());
        self
    }

    pub fn remedy(&self) -> Remedy {
        self.code.remedy()
    }

    /// The English sentence. A parameter with no value reads as "it" / "the file".
    pub fn message(&self) -> String {
        let template = self.code.template();
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else { break };
            let name = &rest[open + 1..open + close];
            match self.params.get(name) {
                Some(value) => out.push_str(value),
                None => out.push_str(fallback(name, open == 0 && out.is_empty())),
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The message, then the detail on the next line when there is one:
    /// what logs and `--verbose` show.
    pub fn message_with_detail(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}\n{detail}", self.message()),
            None => self.message(),
        }
    }

    /// What a person sees of it: sentence, code, remedy and detail.
    pub fn view(&self) -> ProblemView {
        ProblemView {
            code: self.code,
            message: self.message(),
            params: self.params.clone(),
            remedy: self.remedy(),
            detail: self.detail.clone(),
        }
    }
}

fn fallback(name: &str, sentence_start: bool) -> &'static str {
    match (name, sentence_start) {
        ("file", true) => "The file",
        ("file", false) => "the file",
        ("backend", true) => "The transcoder",
        ("backend", false) => "the transcoder",
        ("action", _) => "do that",
        ("code", _) => "an error",
        ("job", _) => "with that id",
        ("state", _) => "busy",
        ("connection", _) => "by that name",
        ("reason", _) => "something is missing",
        _ => "…",
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Problem {}

/// A problem as the UI and `--json` see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ProblemView {
    pub code: ProblemCode,
    /// One plain sentence: what happened and what to do.
    pub message: String,
    /// The values in the sentence, by name: for translating it from `code`.
    pub params: BTreeMap<String, String>,
    pub remedy: Remedy,
    /// The raw detail, with credentials and signatures removed.
    pub detail: Option<String>,
}

/// Query parameters whose values are credentials or signatures.
const SECRET_PARAMS: &[&str] =
    &["x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "policy", "awsaccesskeyid"];

/// Removes what must never be shown: signed-URL signatures, policies and
/// credentials (query parameters or `name=value` anywhere), `Authorization`
/// headers, and AWS-style access key ids. Everything else stays readable.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&redact_line(line));
    }
    out
}

fn redact_line(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    if let Some(at) = lower.find("authorization:") {
        return format!("{}authorization: [redacted]", &line[..at]);
    }
    let mut out = String::with_capacity(line.len());
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < line.len() {
        // `name=value` where name is a secret parameter: keep the name, drop the value.
        if let Some(name) = SECRET_PARAMS.iter().find(|name| {
            lower[i..].starts_with(*name)
                && bytes.get(i + name.len()) == Some(&b'=')
                && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'-')
        }) {
            let value_start = i + name.len() + 1;
            let value_end = line[value_start..]
                .find(|c: char| c == '&' || c == '"' || c == '\'' || c == '<' || c.is_whitespace())
                .map_or(line.len(), |n| value_start + n);
            out.push_str(&line[i..value_start]);
            out.push_str("[redacted]");
            i = value_end;
            continue;
        }
        if let Some(len) = access_key_id_at(&bytes[i..]).filter(|_| i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            out.push_str("[access key id]");
            i += len;
            continue;
        }
        let c = line[i..].chars().next().expect("i is on a char boundary");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The length of an access key id at the start of `bytes`: AWS's (`AKIA`/`ASIA`
/// + 16) or the local server's (`SDLOCAL` + 13), each a whole word.
fn access_key_id_at(bytes: &[u8]) -> Option<usize> {
    let word = |prefix: &[u8], rest: usize| {
        let len = prefix.len() + rest;
        let fits = bytes.len() >= len
            && bytes.starts_with(prefix)
            && bytes[prefix.len()..len].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && bytes.get(len).is_none_or(|b| !b.is_ascii_alphanumeric());
        fits.then_some(len)
    };
    word(b"AKIA", 16).or_else(|| word(b"ASIA", 16)).or_else(|| word(b"SDLOCAL", 13))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_fill_parameters_and_fall_back_to_plain_words() {
        let p = Problem::new(ProblemCode::FileTruncated).with("file", "A001.mp4");
        assert_eq!(
            p.message(),
            "A001.mp4 ends early — it may still be copying from the card. Add it again once the copy has finished."
        );
        assert_eq!(p.remedy(), Remedy::AddAgain);
        let bare = Problem::new(ProblemCode::FileMissing);
        assert!(bare.message().starts_with("The file is no longer"), "{}", bare.message());
        let storage = Problem::new(ProblemCode::StorageError);
        assert!(storage.message().contains("could not do that (an error)"), "{}", storage.message());
    }

    #[test]
    fn every_code_is_one_plain_sentence_or_two_with_what_to_do() {
        for code in ProblemCode::ALL {
            let text = Problem::new(*code).message();
            assert!(text.ends_with('.'), "{code}: {text}");
            assert!(!text.contains('{'), "{code}: {text}");
            assert!(text.len() < 200, "{code}: {text}");
            let round: ProblemCode = serde_json::from_value(serde_json::to_value(code).unwrap()).unwrap();
            assert_eq!(round, *code);
        }
    }

    #[test]
    fn redacts_signatures_credentials_and_key_ids() {
        let raw = "GET http://127.0.0.1:9/b/k.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=SDLOCAL1234567890ABC%2F2026&X-Amz-Signature=abcdef0123&x-id=GetObject failed\n\
                   https://d1.cloudfront.net/a.m3u8?Policy=eyJ&Signature=Zm9v~&Key-Pair-Id=K2 403\n\
                   Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2026, Signature=ff\n\
                   key AKIAIOSFODNN7EXAMPLE and ASIAZZZZZZZZZZZZZZZZ and SDLOCALABCDEFGHIJKLM; AKIAtoo short";
        let clean = redact(raw);
        for secret in [
            "abcdef0123",
            "SDLOCAL1234567890ABC",
            "eyJ",
            "Zm9v",
            "AKIAIOSFODNN7EXAMPLE",
            "ASIAZZZZ",
            "SDLOCALABCDEFGHIJKLM",
            "ff",
        ] {
            assert!(!clean.contains(secret), "{secret} left in:\n{clean}");
        }
        assert!(clean.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{clean}");
        assert!(clean.contains("x-id=GetObject failed"), "{clean}");
        assert!(clean.contains("Key-Pair-Id=K2 403"), "{clean}");
        assert!(clean.contains("AKIAtoo short"), "not a key id: {clean}");
        assert_eq!(redact("plain text, é and ü"), "plain text, é and ü");
    }

    #[test]
    fn detail_is_redacted_and_bounded() {
        let p = Problem::new(ProblemCode::Internal).detail(format!("Signature=secret {}", "é".repeat(5000)));
        let detail = p.detail.unwrap();
        assert!(!detail.contains("secret"));
        assert!(detail.len() <= MAX_DETAIL + 4);
        assert!(Problem::new(ProblemCode::Internal).detail("  ").detail.is_none());
    }
}
