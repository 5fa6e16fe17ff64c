//! What a file found in a folder is, from its name and where it sits: a clip
//! (worth a job), a sidecar (a camera's metadata, proxy or thumbnail for a
//! clip), something to skip without a word (what operating systems leave on
//! a card), or something else (refused as not a video).
//!
//! Camera cards are recognised by their folders wherever they sit under what
//! was dropped (a card, or a folder of cards): only the clip folder of a
//! layout holds clips; the rest of the layout is the camera's metadata.

/// What one file found in a folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Clip,
    Sidecar,
    Other,
}

/// Video containers cameras, phones and editors write. R3D, BRAW and CRM are
/// raw formats ffprobe cannot read: they are found, then refused by the
/// media check as [`camera_raw`] says.
const VIDEO: &[&str] = &[
    "mp4", "mov", "mxf", "mts", "m2ts", "m4v", "avi", "mkv", "webm", "mpg", "mpeg", "ts", "3gp", "dv", "wmv", "braw",
    "r3d", "crm", "insv",
];

/// For a camera raw clip (by its extension): the format's name and an
/// application that exports it to something Streamdrop converts.
pub fn camera_raw(name: &str) -> Option<(&'static str, &'static str)> {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    match extension.as_str() {
        "braw" => Some(("Blackmagic RAW", "DaVinci Resolve")),
        "r3d" => Some(("REDCODE RAW", "REDCINE-X PRO or DaVinci Resolve")),
        "crm" => Some(("Canon Cinema RAW Light", "Canon RAW Development or DaVinci Resolve")),
        _ => None,
    }
}

/// Which of `clips` (relative paths on one card) sidecar `sidecar` belongs to:
/// the clip whose name stem and the sidecar's begin alike, one wholly the
/// other's start (`C0001.MP4` ← `C0001M01.XML`, `THMBNL/C0001T01.JPG`;
/// `CLIPINF/00000.CPI` → `STREAM/00000.MTS`; a RED clip's `.RMD` → its first
/// `_001.R3D`), the longest such stem winning. `None` for a card's own
/// files (`MEDIAPRO.XML`, a recorder's `.WAV`), which belong to no clip.
pub fn owner_of(sidecar: &str, clips: &[&str]) -> Option<usize> {
    let stem = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or(path);
        name.split('.').next().unwrap_or(name).to_ascii_uppercase()
    };
    let own = stem(sidecar);
    let mut best: Option<(usize, usize)> = None;
    for (i, clip) in clips.iter().enumerate() {
        let theirs = stem(clip);
        let alike = theirs.len().min(own.len());
        // Three characters at least: "A.XML" is nobody's.
        if alike >= 3 && (own.starts_with(&theirs) || theirs.starts_with(&own)) && best.is_none_or(|(_, b)| alike > b) {
            best = Some((i, alike));
        }
    }
    best.map(|(i, _)| i)
}

/// What cameras write next to their clips: metadata, thumbnails, low-res
/// proxies, and sound recorded alongside.
const SIDECAR: &[&str] = &[
    "xml", "thm", "bim", "cpi", "mpl", "bdm", "xmp", "lrv", "smi", "ppn", "rmd", "rdm", "ale", "cdl", "sif", "ind",
    "wav", "bwf",
];

/// Names operating systems and indexers leave on cards; never worth a word.
/// Every dot-name (`.DS_Store`, `._C0001.MP4`, `.Spotlight-V100`, `.Trashes`,
/// `.fseventsd`) is one too.
const SYSTEM: &[&str] = &["thumbs.db", "desktop.ini", "system volume information", "$recycle.bin"];

/// Whether a file or folder of this name is left alone without a word.
pub fn is_hidden_or_system(name: &str) -> bool {
    name.starts_with('.') || SYSTEM.contains(&name.to_ascii_lowercase().as_str())
}

/// What the file at `components` (the folders under the dropped one, then
/// the file's name) is.
pub fn classify(components: &[&str]) -> Kind {
    let Some((name, folders)) = components.split_last() else { return Kind::Other };
    let upper: Vec<String> = folders.iter().map(|f| f.to_ascii_uppercase()).collect();
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let is_video = VIDEO.contains(&extension.as_str());
    let is_sidecar = SIDECAR.contains(&extension.as_str());
    match card_clip_folder(&upper) {
        // Inside a card layout: its clip folder holds the clips, the rest is the camera's.
        Some(true) if is_video => Kind::Clip,
        Some(_) => Kind::Sidecar,
        None if is_video => Kind::Clip,
        None if is_sidecar => Kind::Sidecar,
        None => Kind::Other,
    }
}

/// `Some(true)` when `folders` is the clip folder of a card layout,
/// `Some(false)` when it is elsewhere inside one, `None` outside any.
fn card_clip_folder(folders: &[String]) -> Option<bool> {
    let at = |name: &str| folders.iter().rposition(|f| f == name);
    let below = |i: usize| &folders[i + 1..];
    // Sony XAVC / XDCAM EX: PRIVATE/M4ROOT/CLIP/C0001.MP4 (SUB/ holds proxies, THMBNL/ thumbnails).
    if let Some(i) = at("M4ROOT") {
        return Some(below(i) == ["CLIP"]);
    }
    // Sony XDCAM: XDROOT/Clip/*.MXF (Sub/ holds proxies).
    if let Some(i) = at("XDROOT") {
        return Some(below(i) == ["CLIP"]);
    }
    // Panasonic AVCHD: PRIVATE/AVCHD/BDMV/STREAM/00000.MTS (CLIPINF/, PLAYLIST/ are indexes).
    if let Some(i) = at("BDMV") {
        return Some(below(i) == ["STREAM"]);
    }
    // Panasonic P2: CONTENTS/VIDEO/*.MXF (AUDIO/ holds each clip's sound as separate MXF files).
    if let Some(i) = at("CONTENTS").filter(|&i| folders.get(i + 1).is_some_and(|f| P2.contains(&f.as_str()))) {
        return Some(below(i) == ["VIDEO"]);
    }
    None
}

const P2: &[&str] = &["VIDEO", "AUDIO", "CLIP", "ICON", "PROXY", "VOICE"];

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(path: &str) -> Kind {
        classify(&path.split('/').collect::<Vec<_>>())
    }

    #[test]
    fn card_layouts_give_their_clips_and_keep_the_rest_as_sidecars() {
        assert_eq!(kind("PRIVATE/M4ROOT/CLIP/C0001.MP4"), Kind::Clip);
        assert_eq!(kind("PRIVATE/M4ROOT/CLIP/C0001M01.XML"), Kind::Sidecar);
        assert_eq!(kind("PRIVATE/M4ROOT/SUB/C0001S03.MP4"), Kind::Sidecar, "a proxy is not a clip");
        assert_eq!(kind("PRIVATE/M4ROOT/THMBNL/C0001T01.JPG"), Kind::Sidecar);
        assert_eq!(kind("PRIVATE/M4ROOT/MEDIAPRO.XML"), Kind::Sidecar);
        assert_eq!(kind("PRIVATE/AVCHD/BDMV/STREAM/00000.MTS"), Kind::Clip);
        assert_eq!(kind("PRIVATE/AVCHD/BDMV/CLIPINF/00000.CPI"), Kind::Sidecar);
        assert_eq!(kind("PRIVATE/AVCHD/BDMV/INDEX.BDM"), Kind::Sidecar);
        assert_eq!(kind("CONTENTS/VIDEO/0001AB.MXF"), Kind::Clip);
        assert_eq!(kind("CONTENTS/AUDIO/0001AB00.MXF"), Kind::Sidecar, "P2 sound is not a clip of its own");
        assert_eq!(kind("DCIM/100CANON/MVI_0001.MOV"), Kind::Clip);
        assert_eq!(kind("DCIM/100CANON/MVI_0001.THM"), Kind::Sidecar);
        assert_eq!(kind("DCIM/100GOPRO/GL010001.LRV"), Kind::Sidecar);
        assert_eq!(kind("DCIM/100CANON/IMG_0002.JPG"), Kind::Other, "a photo is not a video");
        assert_eq!(kind("A001_C001.braw"), Kind::Clip);
    }

    #[test]
    fn a_sidecar_belongs_to_the_clip_its_name_starts_like() {
        let sony = ["A001/PRIVATE/M4ROOT/CLIP/C0001.MP4", "A001/PRIVATE/M4ROOT/CLIP/C0002.MP4"];
        assert_eq!(owner_of("A001/PRIVATE/M4ROOT/CLIP/C0002M01.XML", &sony), Some(1));
        assert_eq!(owner_of("A001/PRIVATE/M4ROOT/THMBNL/C0001T01.JPG", &sony), Some(0));
        assert_eq!(owner_of("A001/PRIVATE/M4ROOT/MEDIAPRO.XML", &sony), None);
        let avchd = ["CARD/PRIVATE/AVCHD/BDMV/STREAM/00000.MTS", "CARD/PRIVATE/AVCHD/BDMV/STREAM/00001.MTS"];
        assert_eq!(owner_of("CARD/PRIVATE/AVCHD/BDMV/CLIPINF/00001.CPI", &avchd), Some(1));
        let red =
            ["R/A001_C003_0101XY.RDC/A001_C003_0101XY_001.R3D", "R/A001_C003_0101XY.RDC/A001_C003_0101XY_002.R3D"];
        assert_eq!(owner_of("R/A001_C003_0101XY.RDC/A001_C003_0101XY.RMD", &red), Some(0));
        let gopro = ["G/DCIM/100GOPRO/GX010001.MP4", "G/DCIM/100GOPRO/GX010012.MP4"];
        assert_eq!(owner_of("G/DCIM/100GOPRO/GX010012.LRV", &gopro), Some(1));
        assert_eq!(owner_of("G/DCIM/100GOPRO/GX010012.THM", &gopro), Some(1));
        assert_eq!(owner_of("G/A.XML", &["G/A.MP4"]), None, "too short a stem to tell");
        assert_eq!(kind("A001_1231AB.RDM/A001_C001_1231XY.RDC/A001_C001_1231XY_001.R3D"), Kind::Clip);
        assert_eq!(kind("Reel 1/A002C003_220101_R1AB.mxf"), Kind::Clip);
        assert_eq!(kind("notes.txt"), Kind::Other);
        assert_eq!(kind("no extension"), Kind::Other);
    }

    #[test]
    fn what_systems_leave_is_hidden() {
        for name in
            [".DS_Store", "._C0001.MP4", ".Spotlight-V100", ".Trashes", "Thumbs.db", "System Volume Information"]
        {
            assert!(is_hidden_or_system(name), "{name}");
        }
        assert!(!is_hidden_or_system("C0001.MP4"));
        assert!(!is_hidden_or_system("-dash first.mov"));
    }
}
