//! Turns paths from a drop, a file dialog or the CLI into sources worth
//! uploading, or a clear per-item reason why not, before a single byte is sent.
//!
//! [`inspect`] checks the file system (a regular, readable file); [`examine`]
//! also reads the file as media: an ISO BMFF (MP4/MOV) file whose boxes run
//! past its end is still being copied; anything ffprobe cannot read as video or
//! audio, with only the `file` protocol and only real media demuxers allowed
//! ([`local_probe`]), is refused. A playlist (`.m3u8`, or the same text under a
//! camera-like name) never makes Streamdrop open the URLs inside it. A folder
//! (a camera card, or a folder of them) stands for the clips in it
//! (`walk.rs`, `cards.rs`). Each accepted file gets a fingerprint of its
//! content (`fingerprint.rs`) to find it when added again. Nothing here
//! modifies the user's files.

use std::collections::HashSet;
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use futures_util::StreamExt;

use crate::model::{MediaInfo, Problem, ProblemCode, ReasonCount, Rejection, Sidecar, SourceFile};
use crate::transcode::probe::{self, ProbeError};

mod cards;
pub mod fingerprint;
mod walk;

/// Files read as media at once: ffprobe is mostly waiting on the disk.
const PARALLELISM: usize = 4;

/// What a batch of paths would become: the files that pass, in the order
/// given (a folder's clips sorted by their path in it), and a rejection with
/// its reason for each item that does not. Nothing is recorded until the plan
/// is applied (`Session::apply_intake`).
#[derive(Debug, Clone, Default)]
pub struct IntakePlan {
    pub accepted: Vec<Accepted>,
    pub rejected: Vec<Rejection>,
    /// Cameras' files found on a card that belong to no clip (the card's own
    /// indexes, a recorder's sound): not jobs, and left where they are. A
    /// clip's own sidecars travel with it ([`Accepted::sidecars`]).
    pub sidecars: Vec<PathBuf>,
}

impl IntakePlan {
    /// The rejections summed up by reason, for one line per reason.
    pub fn rejected_counts(&self) -> Vec<ReasonCount> {
        ReasonCount::of(&self.rejected)
    }
}

/// Expands each folder to the clips in it (see `walk` and `cards`), then
/// [`examine`]s each file, a few at once, keeping the order.
pub async fn plan(paths: impl IntoIterator<Item = PathBuf>) -> IntakePlan {
    let mut plan = IntakePlan::default();
    let mut items: Vec<Item> = Vec::new();
    let mut names = HashSet::new();
    for path in paths {
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            items.push(Item::Examine(path, None));
            continue;
        }
        let name = unique_name(folder_name(&path), &mut names);
        let (root, card) = (path.clone(), name.clone());
        let walked = match tokio::task::spawn_blocking(move || walk::walk(&root, &card)).await {
            Ok(walked) => walked,
            Err(err) => {
                let problem = Problem::new(ProblemCode::Internal).with("file", &name).detail(err);
                items.push(Item::Refused(Rejection::new(&path, problem)));
                continue;
            }
        };
        if walked.clips.is_empty() {
            // One line for the folder; what else was in it does not matter then.
            // A folder that could not be read at all says so instead.
            if !walked.rejected.iter().any(|(relative, _)| *relative == name) {
                let problem = Problem::new(ProblemCode::FolderWithoutVideo).with("file", &name);
                items.push(Item::Refused(Rejection::new(&path, problem)));
            }
            let trouble = walked.rejected.into_iter().filter(|(_, r)| r.problem.code != ProblemCode::NotMedia);
            items.extend(trouble.map(|(_, r)| Item::Refused(r)));
            continue;
        }
        let clip_paths: Vec<&str> = walked.clips.iter().map(|c| c.relative.as_str()).collect();
        let mut owned: Vec<Vec<Sidecar>> = vec![Vec::new(); walked.clips.len()];
        for found in walked.sidecars {
            match cards::owner_of(&found.relative, &clip_paths) {
                Some(clip) => owned[clip].push(Sidecar { path: found.path, relative_path: found.relative }),
                None => plan.sidecars.push(found.path),
            }
        }
        items.extend(
            walked
                .clips
                .into_iter()
                .zip(owned)
                .map(|(found, sidecars)| Item::Examine(found.path, Some((found.relative, sidecars)))),
        );
        items.extend(walked.rejected.into_iter().map(|(_, r)| Item::Refused(r)));
    }
    let examined: Vec<_> = futures_util::stream::iter(items)
        .map(|item| async move {
            let (path, in_folder) = match item {
                Item::Examine(path, in_folder) => (path, in_folder),
                Item::Refused(rejection) => return Err(rejection),
            };
            match examine(&path).await {
                Ok(accepted) => Ok(match in_folder {
                    Some((relative, sidecars)) => {
                        Accepted { relative_path: relative, from_folder: true, sidecars, ..accepted }
                    }
                    None => accepted,
                }),
                Err(problem) => Err(Rejection::new(&path, problem)),
            }
        })
        .buffered(PARALLELISM)
        .collect()
        .await;
    for outcome in examined {
        match outcome {
            Ok(accepted) => plan.accepted.push(accepted),
            Err(rejection) => plan.rejected.push(rejection),
        }
    }
    plan
}

/// A file to examine (with its path in the dropped folder it was found in,
/// and its sidecars there), or an item already refused.
enum Item {
    Examine(PathBuf, Option<(String, Vec<Sidecar>)>),
    Refused(Rejection),
}

/// `name`, or (when the batch already has a folder of that name, say two
/// cards both called `Untitled`) `name (2)`, `name (3)`…, so that no two
/// files of a batch share an upload key.
fn unique_name(name: String, taken: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{name} ({n})");
    }
    candidate
}

/// A folder's own name, also when it was given as `.` or `card/`.
fn folder_name(path: &Path) -> String {
    match std::fs::canonicalize(path).ok().as_deref().and_then(Path::file_name) {
        Some(name) => name.to_string_lossy().into_owned(),
        None => display_name(path),
    }
}

/// A file that passed intake: what it is on disk, what it holds, and the
/// name it keeps in its batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub source: SourceFile,
    pub media: MediaInfo,
    /// See [`fingerprint::fingerprint`].
    pub fingerprint: String,
    /// `<folder>/<path under it>` for a file found in a folder, else its name.
    pub relative_path: String,
    /// Found in a dropped folder (rather than given by itself).
    pub from_folder: bool,
    /// The camera's files on the same card that belong with it.
    pub sidecars: Vec<Sidecar>,
}

/// Checks that `path` is a regular file we can read, and records its size and mtime.
pub fn inspect(path: &Path) -> Result<SourceFile, Problem> {
    let about = |code| Problem::new(code).with("file", display_name(path));
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => about(ProblemCode::FileNotFound),
        _ => about(ProblemCode::FileUnreadable).detail(e),
    })?;
    if meta.is_dir() {
        return Err(about(ProblemCode::Folder));
    }
    if !meta.is_file() {
        return Err(about(ProblemCode::NotAFile));
    }
    // Opening proves readability now rather than failing halfway through the upload.
    File::open(path).map_err(|e| about(ProblemCode::FileUnreadable).detail(e))?;
    let modified_ms =
        meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64).unwrap_or(0);
    Ok(SourceFile { path: path.to_path_buf(), size: meta.len(), modified_ms })
}

/// [`inspect`], then reads the file as media: refused unless it is a whole,
/// playable video or audio file. Then takes its fingerprint.
pub async fn examine(path: &Path) -> Result<Accepted, Problem> {
    let source = inspect(path)?;
    let about = |code| Problem::new(code).with("file", source.display_name());
    if source.size == 0 {
        return Err(about(ProblemCode::FileEmpty));
    }
    let owned = path.to_owned();
    let truncated = tokio::task::spawn_blocking(move || iso_bmff_ends_early(&owned)).await;
    match truncated {
        Ok(Ok(Some(detail))) => return Err(about(ProblemCode::FileTruncated).detail(detail)),
        Ok(Ok(None)) => {}
        Ok(Err(err)) => return Err(about(ProblemCode::FileUnreadable).detail(err)),
        Err(err) => return Err(about(ProblemCode::Internal).detail(err)),
    }
    let media = match local_probe(path).await {
        Ok(media) => media,
        // Video all the same: say what it is and what to do, not "not a video".
        Err(err) => match cards::camera_raw(&source.display_name()) {
            Some((format, tool)) if !matches!(err, ProbeError::NotInstalled | ProbeError::Timeout { .. }) => {
                return Err(about(ProblemCode::CameraRaw).with("format", format).with("tool", tool).detail(err))
            }
            _ => return Err(probe_problem(&err).with("file", source.display_name())),
        },
    };
    let (owned, size) = (path.to_owned(), source.size);
    let fingerprint = match tokio::task::spawn_blocking(move || fingerprint::fingerprint(&owned, size)).await {
        Ok(Ok(fingerprint)) => fingerprint,
        Ok(Err(err)) => return Err(about(ProblemCode::FileUnreadable).detail(err)),
        Err(err) => return Err(about(ProblemCode::Internal).detail(err)),
    };
    Ok(Accepted {
        relative_path: source.display_name(),
        from_folder: false,
        source,
        media,
        fingerprint,
        sidecars: Vec::new(),
    })
}

/// ffprobe on a local file, reading that file only (see [`probe::local_only_input_options`]).
pub async fn local_probe(path: &Path) -> Result<MediaInfo, ProbeError> {
    probe::probe(path).await
}

/// How a probe failure reads to a person; the caller adds the file's name.
fn probe_problem(err: &ProbeError) -> Problem {
    let code = match err {
        ProbeError::NotInstalled => ProblemCode::FfmpegMissing,
        ProbeError::RefusedFormat { format, .. } if probe::INDIRECTION_FORMATS.contains(&format.as_str()) => {
            ProblemCode::Playlist
        }
        ProbeError::RefusedFormat { .. }
        | ProbeError::NotMedia { .. }
        | ProbeError::NoStreams { .. }
        | ProbeError::BadOutput { .. } => ProblemCode::NotMedia,
        ProbeError::StillImage { .. } => ProblemCode::StillImage,
        ProbeError::Unreachable { .. } => ProblemCode::FileUnreadable,
        ProbeError::Timeout { .. } => ProblemCode::ProbeTimeout,
        ProbeError::Io(_) => ProblemCode::Internal,
    };
    Problem::new(code).detail(err)
}

fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// For an ISO BMFF file (MP4, MOV, 3GP…): `Some(why)` when its top-level
/// boxes say it is cut short (a box runs past the end, or the `moov` index
/// never got written), which is what a clip still being copied from a card
/// looks like. `None` for a whole file, or a file that is not ISO BMFF.
pub fn iso_bmff_ends_early(path: &Path) -> std::io::Result<Option<String>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut offset = 0u64;
    let mut saw_moov = false;
    let mut first = true;
    while offset < len {
        let mut header = [0u8; 16];
        file.seek(SeekFrom::Start(offset))?;
        let got = read_up_to(&mut file, &mut header)?;
        if got < 8 {
            return Ok(if first { None } else { Some(format!("a box header at byte {offset} is cut off")) });
        }
        let kind = &header[4..8];
        if !kind.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ' || *b == b'-' || *b == 0xa9) {
            // Not a box: not ISO BMFF at all, or trailing bytes some recorders add.
            return Ok(None);
        }
        if first && !matches!(kind, b"ftyp" | b"wide" | b"free" | b"skip" | b"mdat" | b"moov" | b"pnot" | b"uuid") {
            return Ok(None);
        }
        let size = match u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) {
            0 => len - offset, // runs to the end of the file
            1 if got >= 16 => u64::from_be_bytes(header[8..16].try_into().expect("8 bytes")),
            1 => return Ok(Some(format!("the {} box's size at byte {offset} is cut off", fourcc(kind)))),
            n => u64::from(n),
        };
        if size < 8 {
            return Ok(if first {
                None
            } else {
                Some(format!("the box at byte {offset} has an impossible size ({size})"))
            });
        }
        if offset.saturating_add(size) > len {
            return Ok(Some(format!(
                "its {} box needs {} bytes from byte {offset}, but the file ends after {}",
                fourcc(kind),
                size,
                len - offset
            )));
        }
        saw_moov |= kind == b"moov";
        first = false;
        offset += size;
    }
    Ok((!saw_moov).then(|| "it has no moov box (the index a recorder writes last)".to_owned()))
}

fn fourcc(kind: &[u8]) -> String {
    String::from_utf8_lossy(kind).into_owned()
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_regular_file_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip one.mp4");
        std::fs::write(&path, b"12345").unwrap();
        let source = inspect(&path).unwrap();
        assert_eq!(source.size, 5);
        assert_eq!(source.display_name(), "clip one.mp4");
        assert!(source.modified_ms > 0);
    }

    #[test]
    fn rejects_folders_missing_files_and_pipes_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let folder = inspect(dir.path()).unwrap_err();
        assert_eq!(folder.code, ProblemCode::Folder, "{folder:?}");

        let missing = inspect(&dir.path().join("nope.mov")).unwrap_err();
        assert_eq!(missing.code, ProblemCode::FileNotFound, "{missing:?}");
        assert!(missing.message().starts_with("nope.mov was not found"), "{missing:?}");

        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let pipe = inspect(&fifo).unwrap_err();
        assert_eq!(pipe.code, ProblemCode::NotAFile, "{pipe:?}");
    }

    #[test]
    fn iso_bmff_cut_short_is_found_and_whole_or_other_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let boxed = |kind: &[u8; 4], body: &[u8]| {
            let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(kind);
            b.extend_from_slice(body);
            b
        };
        let whole = [boxed(b"ftyp", b"isom0000"), boxed(b"mdat", &[7; 100]), boxed(b"moov", &[1; 20])].concat();
        assert_eq!(iso_bmff_ends_early(&write("whole.mp4", &whole)).unwrap(), None);
        let cut = &whole[..whole.len() - 30];
        let why = iso_bmff_ends_early(&write("cut.mp4", cut)).unwrap().expect("cut short");
        assert!(why.contains("mdat") || why.contains("moov"), "{why}");
        let no_index = [boxed(b"ftyp", b"isom0000"), boxed(b"mdat", &[7; 100])].concat();
        assert!(iso_bmff_ends_early(&write("no index.mov", &no_index)).unwrap().unwrap().contains("moov"));
        // mdat of size 0 runs to the end: whole, if the index came first.
        let open_ended = [
            boxed(b"ftyp", b"isom0000"),
            boxed(b"moov", &[1; 20]),
            [0, 0, 0, 0].to_vec(),
            b"mdat".to_vec(),
            vec![9; 50],
        ]
        .concat();
        assert_eq!(iso_bmff_ends_early(&write("open.mp4", &open_ended)).unwrap(), None);
        assert_eq!(iso_bmff_ends_early(&write("notes.txt", b"just some text, not boxes at all")).unwrap(), None);
        assert_eq!(iso_bmff_ends_early(&write("ts.mts", &[0x47; 188 * 3])).unwrap(), None);
    }
}
