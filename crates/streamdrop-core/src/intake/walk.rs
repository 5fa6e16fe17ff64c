//! A dropped folder, read recursively: the clips in it with their paths
//! under it, the sidecars, and a rejection for each item that cannot be
//! taken. Links are followed, but each folder is read once (by device and
//! inode), so a link loop ends as a rejection instead of running forever.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::cards::{self, Kind};
use crate::model::{Problem, ProblemCode, Rejection};

/// A file found under a dropped folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// The dropped folder's name (as `walk` was told it), then the file's
    /// path under it, `/`-separated.
    pub relative: String,
}

/// What a folder holds, each list sorted by relative path.
#[derive(Debug, Default)]
pub struct Walked {
    pub clips: Vec<Found>,
    /// Cameras' metadata, thumbnails and proxies: not jobs.
    pub sidecars: Vec<Found>,
    pub rejected: Vec<(String, Rejection)>,
}

/// Reads `root`, which people know as `name`, and everything under it.
pub fn walk(root: &Path, name: &str) -> Walked {
    let mut walked = Walked::default();
    let mut visited = HashSet::new();
    // (folder, its relative path) still to read.
    let mut pending = vec![(root.to_path_buf(), name.to_owned())];
    while let Some((dir, relative)) = pending.pop() {
        let about = |code| Problem::new(code).with("file", &relative);
        let reject = |walked: &mut Walked, problem: Problem| {
            walked.rejected.push((relative.clone(), Rejection::new(&dir, problem)));
        };
        match std::fs::metadata(&dir) {
            Ok(meta) if !visited.insert(identity(&dir, &meta)) => {
                reject(&mut walked, about(ProblemCode::FolderLoop));
                continue;
            }
            Ok(_) => {}
            Err(err) => {
                reject(&mut walked, about(ProblemCode::FileUnreadable).detail(err));
                continue;
            }
        }
        let entries = match std::fs::read_dir(&dir).and_then(|e| e.collect::<Result<Vec<_>, _>>()) {
            Ok(entries) => entries,
            Err(err) => {
                reject(&mut walked, about(ProblemCode::FileUnreadable).detail(err));
                continue;
            }
        };
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if cards::is_hidden_or_system(&name) {
                continue;
            }
            let path = entry.path();
            let child = format!("{relative}/{name}");
            // Follows links: a linked clip or folder counts as what it points to.
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => pending.push((path, child)),
                Ok(_) => {
                    // The card layout is read below the dropped folder's own name.
                    let components: Vec<&str> = child.split('/').skip(1).collect();
                    let found = Found { path, relative: child.clone() };
                    match cards::classify(&components) {
                        Kind::Clip => walked.clips.push(found),
                        Kind::Sidecar => walked.sidecars.push(found),
                        Kind::Other => {
                            let problem = Problem::new(ProblemCode::NotMedia).with("file", &child);
                            walked.rejected.push((child, Rejection::new(&found.path, problem)));
                        }
                    }
                }
                Err(err) => {
                    let code = if err.kind() == std::io::ErrorKind::NotFound {
                        ProblemCode::FileNotFound // a link to nothing
                    } else {
                        ProblemCode::FileUnreadable
                    };
                    let problem = Problem::new(code).with("file", &child).detail(err);
                    walked.rejected.push((child, Rejection::new(&path, problem)));
                }
            }
        }
    }
    walked.clips.sort_by(|a, b| a.relative.cmp(&b.relative));
    walked.sidecars.sort_by(|a, b| a.relative.cmp(&b.relative));
    walked.rejected.sort_by(|a, b| a.0.cmp(&b.0));
    walked
}

/// What makes a folder the same folder, however it was reached.
#[cfg(unix)]
fn identity(_dir: &Path, meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(dir: &Path, _meta: &std::fs::Metadata) -> PathBuf {
    // No inodes here: the path with every link resolved names the folder.
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_gives_its_clips_sorted_and_skips_what_systems_leave() {
        let dir = tempfile::tempdir().unwrap();
        let card = dir.path().join("A001");
        let clip_dir = card.join("PRIVATE/M4ROOT/CLIP");
        std::fs::create_dir_all(&clip_dir).unwrap();
        std::fs::create_dir_all(card.join(".Spotlight-V100/Store")).unwrap();
        for name in ["C0002.MP4", "C0001.MP4", "C0001M01.XML", "._C0001.MP4", ".DS_Store"] {
            std::fs::write(clip_dir.join(name), b"x").unwrap();
        }
        std::fs::write(card.join(".Spotlight-V100/Store/db.MP4"), b"x").unwrap();
        std::fs::write(card.join("Thumbs.db"), b"x").unwrap();
        std::fs::write(card.join("readme.txt"), b"x").unwrap();
        let walked = walk(&card, "A001");
        let clips: Vec<_> = walked.clips.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(clips, ["A001/PRIVATE/M4ROOT/CLIP/C0001.MP4", "A001/PRIVATE/M4ROOT/CLIP/C0002.MP4"]);
        assert_eq!(walked.sidecars.len(), 1);
        let rejected: Vec<_> = walked.rejected.iter().map(|(r, j)| (r.as_str(), j.problem.code)).collect();
        assert_eq!(rejected, [("A001/readme.txt", ProblemCode::NotMedia)]);
    }

    #[test]
    fn a_clip_25_folders_deep_is_found_with_its_whole_path() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..25).map(|i| format!("level {i} #ü")).collect();
        let deep = names.iter().fold(dir.path().join("card"), |path, name| path.join(name));
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("-clip?.mov"), b"x").unwrap();
        let walked = walk(&dir.path().join("card"), "card");
        let relative = format!("card/{}/-clip?.mov", names.join("/"));
        assert_eq!(walked.clips, [Found { path: deep.join("-clip?.mov"), relative }]);
        assert!(walked.rejected.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_loop_is_read_once_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let card = dir.path().join("card");
        std::fs::create_dir_all(card.join("inner")).unwrap();
        std::fs::write(card.join("inner/a.mov"), b"x").unwrap();
        std::os::unix::fs::symlink(&card, card.join("inner/back")).unwrap();
        let walked = walk(&card, "card");
        assert_eq!(walked.clips.len(), 1);
        let rejected: Vec<_> = walked.rejected.iter().map(|(r, j)| (r.as_str(), j.problem.code)).collect();
        assert_eq!(rejected, [("card/inner/back", ProblemCode::FolderLoop)]);
    }
}
