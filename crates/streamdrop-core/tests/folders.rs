//! Folders and camera cards: a dropped folder becomes its clips, with their
//! path on the card in the object key; what cameras and operating systems
//! leave next to them is not a job; loops and locked folders are reported;
//! the same clips added again are found before a byte is sent.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use streamdrop_core::engine::EngineOptions;
use streamdrop_core::intake;
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::{DataDir, Engine, IfExists, IntakeReport, JobQuery, LocalStack, ProblemCode, StateName};
use streamdrop_e2e::{make_clip_sized, sha256_file};

/// A real clip, each of a size of its own: ffmpeg's test source makes the
/// same bytes for the same settings, and the same bytes are a duplicate.
fn clip(dir: &Path, name: &str) -> PathBuf {
    static MADE: AtomicU32 = AtomicU32::new(0);
    std::fs::create_dir_all(dir).unwrap();
    let width = 160 + 2 * MADE.fetch_add(1, Ordering::Relaxed);
    make_clip_sized(dir, name, &format!("{width}x90"), 1)
}

fn file(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Whether permissions stop this process reading (not as root).
fn permissions_apply() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() != 0 }
}

async fn settle_all(engine: &Engine, report: &IntakeReport) {
    for job in &report.accepted {
        let done = tokio::time::timeout(Duration::from_secs(180), engine.settled(job.id)).await.unwrap().unwrap();
        assert_eq!(done.state, StateName::Ready, "{done:?}");
    }
}

async fn upload_keys(stack: &LocalStack) -> Vec<String> {
    let listed = stack.storage().client.list_objects_v2().bucket("streamdrop-uploads").send().await.unwrap();
    let mut keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_becomes_its_clips_keyed_by_their_path_and_adding_it_again_adds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path().join("data")).unwrap();
    // A Sony card with a hostile name, a DCIM folder and a clip at its root.
    let card = tmp.path().join("cards/A001 #1 ünï");
    let clips = card.join("PRIVATE/M4ROOT/CLIP");
    let c1 = clip(&clips, "C0001.MP4");
    clip(&clips, "C0002 take #2.MP4");
    file(&clips, "C0001M01.XML", b"<NonRealTimeMeta/>");
    file(&clips, "._C0001.MP4", b"AppleDouble");
    std::fs::copy(&c1, card.join("PRIVATE/M4ROOT/THMBNL").tap_mkdir().join("C0001S03.MP4")).unwrap();
    file(&card.join("PRIVATE/M4ROOT"), "MEDIAPRO.XML", b"<MediaProfile/>");
    clip(&card.join("DCIM/100CANON"), "MVI_0001.MOV");
    file(&card.join("DCIM/100CANON"), "MVI_0001.THM", b"thumb");
    clip(&card, "-dash first.mov");
    file(&card, ".DS_Store", b"x");
    file(&card, "Thumbs.db", b"x");
    file(&card.join(".Spotlight-V100/Store-V2"), "store.db", b"x");
    file(&card.join(".hidden folder"), "secret.mov", b"never looked at");
    file(&card, "readme.txt", b"Shot on A camera.");
    // A link back up the card: read once, reported.
    std::os::unix::fs::symlink(&card, card.join("PRIVATE/back to the card")).unwrap();
    // A sub-folder nobody may read.
    let locked = card.join("locked");
    clip(&locked, "L0001.MP4");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // An AVCHD card: only STREAM holds clips.
    let avchd = tmp.path().join("cards/AVCHD");
    clip(&avchd.join("PRIVATE/AVCHD/BDMV/STREAM"), "00000.MTS");
    file(&avchd.join("PRIVATE/AVCHD/BDMV/CLIPINF"), "00000.CPI", b"clip info");
    file(&avchd.join("PRIVATE/AVCHD/BDMV"), "INDEX.BDM", b"index");
    // A folder without video.
    let notes = tmp.path().join("cards/notes");
    file(&notes, "shot list.txt", b"scene 4");

    let stack = LocalStack::start(&data, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&data, EngineOptions::default()).unwrap();
    let plan = intake::plan([card.clone(), avchd.clone(), notes.clone()]).await;
    // The card's own files belong to no clip: they stay on the card.
    let unclaimed: Vec<_> =
        plan.sidecars.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(unclaimed, ["MEDIAPRO.XML", "INDEX.BDM"], "{:?}", plan.sidecars);
    let sidecars_of = |rel: &str| -> Vec<String> {
        let clip = plan.accepted.iter().find(|a| a.relative_path == rel).unwrap();
        clip.sidecars.iter().map(|s| s.relative_path.clone()).collect()
    };
    let c0001_sidecars =
        ["A001 #1 ünï/PRIVATE/M4ROOT/CLIP/C0001M01.XML", "A001 #1 ünï/PRIVATE/M4ROOT/THMBNL/C0001S03.MP4"];
    assert_eq!(sidecars_of("A001 #1 ünï/PRIVATE/M4ROOT/CLIP/C0001.MP4"), c0001_sidecars);
    assert_eq!(sidecars_of("A001 #1 ünï/DCIM/100CANON/MVI_0001.MOV"), ["A001 #1 ünï/DCIM/100CANON/MVI_0001.THM"]);
    assert_eq!(
        sidecars_of("AVCHD/PRIVATE/AVCHD/BDMV/STREAM/00000.MTS"),
        ["AVCHD/PRIVATE/AVCHD/BDMV/CLIPINF/00000.CPI"]
    );
    assert!(sidecars_of("A001 #1 ünï/PRIVATE/M4ROOT/CLIP/C0002 take #2.MP4").is_empty());
    let report = engine.add_plan(plan, IfExists::Skip).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut expected = vec![
        "A001 #1 ünï/-dash first.mov",
        "A001 #1 ünï/DCIM/100CANON/MVI_0001.MOV",
        "A001 #1 ünï/PRIVATE/M4ROOT/CLIP/C0001.MP4",
        "A001 #1 ünï/PRIVATE/M4ROOT/CLIP/C0002 take #2.MP4",
    ];
    let mut refused = vec![
        ("back to the card", ProblemCode::FolderLoop),
        ("readme.txt", ProblemCode::NotMedia),
        ("notes", ProblemCode::FolderWithoutVideo),
    ];
    if permissions_apply() {
        refused.insert(1, ("locked", ProblemCode::FileUnreadable));
    } else {
        // As root, mode 000 does not stop reading: the locked folder's clip is found.
        expected.push("A001 #1 ünï/locked/L0001.MP4");
    }
    expected.push("AVCHD/PRIVATE/AVCHD/BDMV/STREAM/00000.MTS");
    let accepted: Vec<_> = report.accepted.iter().map(|j| j.relative_path.as_str()).collect();
    assert_eq!(accepted, expected, "{report:#?}");
    let rejected: Vec<_> = report.rejected.iter().map(|r| (r.file_name.as_str(), r.problem.code)).collect();
    assert_eq!(rejected, refused, "{report:#?}");
    let notes_line = &report.rejected.last().unwrap().problem.message;
    assert_eq!(notes_line, "notes has no video files. Drop a folder or card that holds clips.");
    assert_eq!(report.rejected_counts.iter().map(|c| c.count).sum::<u32>(), refused.len() as u32);
    assert!(report.rejection_summary().unwrap().starts_with(&format!("{} items were skipped: ", refused.len())));
    let batch = report.accepted[0].batch_id;
    assert!(report.accepted.iter().all(|j| j.batch_id == batch), "one drop is one batch");

    // Each clip went up under uploads/<batch>/<card>/<path on the card>, intact,
    // its sidecars beside it as plain objects (no jobs of their own).
    settle_all(&engine, &report).await;
    let keys = upload_keys(&stack).await;
    let sidecars = [
        c0001_sidecars[0],
        c0001_sidecars[1],
        "A001 #1 ünï/DCIM/100CANON/MVI_0001.THM",
        "AVCHD/PRIVATE/AVCHD/BDMV/CLIPINF/00000.CPI",
    ];
    let mut wanted: Vec<String> =
        expected.iter().chain(sidecars.iter()).map(|rel| format!("uploads/{batch}/{rel}")).collect();
    wanted.sort();
    assert_eq!(keys, wanted);
    for rel in expected.iter().chain(sidecars.iter()) {
        let source = tmp.path().join("cards").join(rel);
        let stored = data.local_storage_root().join("streamdrop-uploads").join(format!("uploads/{batch}/{rel}"));
        assert_eq!(sha256_file(&stored), sha256_file(&source), "{rel}");
    }
    // Kept beside the clip's original once copied.
    let c0001 = report.accepted.iter().find(|j| j.relative_path.ends_with("C0001.MP4")).unwrap().id;
    for rel in c0001_sidecars {
        let kept = data.local_storage_root().join(format!("streamdrop-media/jobs/{c0001}/original/sidecars/{rel}"));
        assert_eq!(sha256_file(&kept), sha256_file(&tmp.path().join("cards").join(rel)), "{rel}");
    }
    // The listing tells the path too.
    let listed: Vec<_> = engine.jobs().unwrap().iter().map(|j| j.relative_path.clone()).collect();
    assert_eq!(listed, expected);
    let query = JobQuery { states: vec![StateName::Ready], search: Some("dcim/".into()), ..JobQuery::default() };
    let page = engine.page(&query).unwrap();
    assert_eq!((page.total, page.jobs[0].relative_path.as_str()), (1, "A001 #1 ünï/DCIM/100CANON/MVI_0001.MOV"));

    // The same card again, and a copy of one clip elsewhere: found before a byte is sent.
    let elsewhere = clips_copy(&c1, &tmp.path().join("backup"));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let plan = intake::plan([card.clone(), avchd.clone(), elsewhere.clone()]).await;
    let again = engine.add_plan(plan, IfExists::Skip).unwrap();
    assert!(again.accepted.is_empty(), "{again:#?}");
    let skipped: Vec<_> = again.duplicates.iter().map(|d| (d.relative_path.as_str(), d.existing_job)).collect();
    let first_id = |rel: &str| report.accepted.iter().find(|j| j.relative_path == rel).unwrap().id;
    let mut wanted: Vec<_> = expected.iter().map(|rel| (*rel, first_id(rel))).collect();
    wanted.push(("C0001 copy.MP4", first_id("A001 #1 ünï/PRIVATE/M4ROOT/CLIP/C0001.MP4")));
    assert_eq!(skipped, wanted);
    assert!(again.duplicates.iter().all(|d| d.existing_state == StateName::Ready));
    assert_eq!(engine.jobs().unwrap().len(), expected.len(), "skipping added no job");
    assert_eq!(upload_keys(&stack).await.len(), expected.len() + sidecars.len(), "and sent nothing");

    // Fail: nothing of the batch is added, and the reason says what to do.
    let plan = intake::plan([avchd.clone()]).await;
    let problem = engine.add_plan(plan, IfExists::Fail).unwrap_err();
    assert_eq!(problem.code, ProblemCode::AlreadyAdded);
    assert_eq!(
        problem.message(),
        "Some of these files are already on this connection (1, among them AVCHD/PRIVATE/AVCHD/BDMV/STREAM/00000.MTS), \
         so nothing was added. Skip them, or choose to upload them again."
    );
    assert_eq!(engine.jobs().unwrap().len(), expected.len());

    // Again: new jobs, under a new batch's keys.
    let plan = intake::plan([avchd.clone()]).await;
    let forced = engine.add_plan(plan, IfExists::Again).unwrap();
    assert_eq!(forced.accepted.len(), 1);
    assert!(forced.duplicates.is_empty());
    assert_ne!(forced.accepted[0].batch_id, batch);
    settle_all(&engine, &forced).await;
    assert_eq!(engine.jobs().unwrap().len(), expected.len() + 1);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    stack.shutdown().await;
}

/// Two cards of the same name in one drop keep apart: the second is `name (2)`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_of_the_same_name_in_one_drop_get_keys_of_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a/Untitled"), tmp.path().join("b/Untitled"));
    clip(&a, "C0001.MP4");
    clip(&b, "C0001.MP4");
    let plan = intake::plan([a, b]).await;
    let names: Vec<_> = plan.accepted.iter().map(|a| a.relative_path.as_str()).collect();
    assert_eq!(names, ["Untitled/C0001.MP4", "Untitled (2)/C0001.MP4"]);
    assert_ne!(plan.accepted[0].fingerprint, plan.accepted[1].fingerprint, "different clips, different content");
}

/// A dropped folder nobody may read is one line saying so, not "has no video".
#[tokio::test]
async fn a_folder_that_cannot_be_read_says_so_in_one_line() {
    if !permissions_apply() {
        // As root, mode 000 does not stop reading: there is nothing to see.
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let locked = tmp.path().join("locked card");
    clip(&locked, "C0001.MP4");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let plan = intake::plan([locked.clone()]).await;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rejected: Vec<_> = plan.rejected.iter().map(|r| (r.file_name.as_str(), r.problem.code)).collect();
    assert_eq!(rejected, [("locked card", ProblemCode::FileUnreadable)]);
}

fn clips_copy(from: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let to = dir.join("C0001 copy.MP4");
    std::fs::copy(from, &to).unwrap();
    to
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

/// A sidecar that left the card before its clip went up is left out with a
/// warning; the clip and its other sidecars go on as if nothing happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_gone_from_the_card_never_holds_its_clip_back() {
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path().join("data")).unwrap();
    let card = tmp.path().join("B001");
    let clips = card.join("PRIVATE/M4ROOT/CLIP");
    clip(&clips, "C0007.MP4");
    file(&clips, "C0007M01.XML", b"<NonRealTimeMeta/>");
    file(&card.join("PRIVATE/M4ROOT/THMBNL"), "C0007T01.JPG", b"\xff\xd8\xff");
    let stack = LocalStack::start(&data, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&data, EngineOptions::default()).unwrap();
    let plan = intake::plan([card.clone()]).await;
    assert_eq!(plan.accepted[0].sidecars.len(), 2);
    std::fs::remove_file(clips.join("C0007M01.XML")).unwrap();
    let report = engine.add_plan(plan, IfExists::Skip).unwrap();
    settle_all(&engine, &report).await;

    let batch = report.accepted[0].batch_id;
    let id = report.accepted[0].id;
    assert_eq!(
        upload_keys(&stack).await,
        [
            format!("uploads/{batch}/B001/PRIVATE/M4ROOT/CLIP/C0007.MP4"),
            format!("uploads/{batch}/B001/PRIVATE/M4ROOT/THMBNL/C0007T01.JPG")
        ]
    );
    let kept = data.local_storage_root().join(format!("streamdrop-media/jobs/{id}/original/sidecars/B001"));
    assert!(kept.join("PRIVATE/M4ROOT/THMBNL/C0007T01.JPG").is_file());
    assert!(!kept.join("PRIVATE/M4ROOT/CLIP/C0007M01.XML").exists());
    stack.shutdown().await;
}
