//! Intake reads each file before a byte is sent: what is not a whole, playable
//! video or audio file is refused with a plain reason, and nothing of it is
//! uploaded; a playlist never makes Streamdrop fetch what it names.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use streamdrop_core::engine::EngineOptions;
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::{DataDir, LocalStack, ProblemCode, Remedy};

use streamdrop_e2e::make_clip_sized as make_clip;

/// A TCP server on 127.0.0.1 that only counts who connects to it.
struct Trap {
    port: u16,
    hits: Arc<AtomicUsize>,
}

fn trap() -> Trap {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stream.is_ok() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    Trap { port, hits }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn ffmpeg(args: &[&str]) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg {args:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_play_is_refused_before_any_byte_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let card = tmp.path().join("card");
    std::fs::create_dir_all(&card).unwrap();
    let data = DataDir::at(tmp.path().join("data")).unwrap();
    let trap = trap();

    let good = make_clip(&card, "A001 good.mp4", "320x180", 2);
    let whole = std::fs::read(&good).unwrap();
    // Cut while copying from the card: the index (moov, written last) is missing.
    let copying = write(&card, "A002 copying.mp4", &whole[..whole.len() / 2]);
    // Index first (faststart), then cut: it opens, but the media box runs past the end.
    let faststart = card.join("faststart.mp4");
    ffmpeg(&["-i", good.to_str().unwrap(), "-c", "copy", "-movflags", "+faststart", faststart.to_str().unwrap()]);
    let fast = std::fs::read(&faststart).unwrap();
    let cut = write(&card, "A003 cut.mp4", &fast[..fast.len() * 2 / 3]);
    std::fs::remove_file(&faststart).unwrap();
    let notes = write(&card, "notes.txt", b"Scene 4, take 2: the good one.\n");
    let empty = write(&card, "A004 empty.mov", b"");
    let playlist_text = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://127.0.0.1:{}/segment.ts\n#EXT-X-ENDLIST\n",
        trap.port
    );
    let playlist = write(&card, "stream.m3u8", playlist_text.as_bytes());
    let disguised = write(&card, "A005.mov", playlist_text.as_bytes());
    let photo = card.join("still.jpg");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", photo.to_str().unwrap()]);
    // Camera raw: video, but no ffmpeg decodes it.
    let braw = write(&card, "A006_C001.braw", &[b"\0\0\0\x14ftypbraw".as_slice(), &[7u8; 4096]].concat());
    let r3d = write(&card, "A007_C001_001.R3D", &[b"\0\0\0\x20RED2".as_slice(), &[9u8; 4096]].concat());

    let stack = LocalStack::start(&data, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&data, EngineOptions::default()).unwrap();
    let given =
        [&copying, &good, &cut, &notes, &empty, &playlist, &disguised, &photo, &braw, &r3d].map(|p| p.to_path_buf());
    let report = engine.add_paths(given).await;

    assert_eq!(report.accepted.iter().map(|v| v.file_name.as_str()).collect::<Vec<_>>(), ["A001 good.mp4"]);
    let refused: Vec<_> =
        report.rejected.iter().map(|r| (r.file_name.as_str(), r.problem.code, r.problem.remedy)).collect();
    assert_eq!(
        refused,
        [
            ("A002 copying.mp4", ProblemCode::FileTruncated, Remedy::AddAgain),
            ("A003 cut.mp4", ProblemCode::FileTruncated, Remedy::AddAgain),
            ("notes.txt", ProblemCode::NotMedia, Remedy::None),
            ("A004 empty.mov", ProblemCode::FileEmpty, Remedy::None),
            ("stream.m3u8", ProblemCode::Playlist, Remedy::None),
            ("A005.mov", ProblemCode::Playlist, Remedy::None),
            ("still.jpg", ProblemCode::StillImage, Remedy::None),
            ("A006_C001.braw", ProblemCode::CameraRaw, Remedy::None),
            ("A007_C001_001.R3D", ProblemCode::CameraRaw, Remedy::None),
        ],
        "{:#?}",
        report.rejected
    );
    let copying_problem = &report.rejected[0].problem;
    assert_eq!(
        copying_problem.message,
        "A002 copying.mp4 ends early — it may still be copying from the card. Add it again once the copy has finished."
    );
    assert_eq!(
        report.rejected[7].problem.message,
        "A006_C001.braw is Blackmagic RAW, which Streamdrop cannot convert to a stream. Export it as ProRes or H.264 (in DaVinci Resolve, for example) and add that file."
    );
    assert!(report.rejected[8].problem.message.contains("is REDCODE RAW"), "{:?}", report.rejected[8]);
    for rejection in &report.rejected {
        let message = &rejection.problem.message;
        assert!(message.starts_with(&rejection.file_name), "a plain sentence about the file: {message}");
        assert!(
            !message.contains("ffprobe") && !message.contains('/') && !message.contains("0x"),
            "no internals: {message}"
        );
    }

    // Only the good clip became a job, and it plays through.
    let done =
        tokio::time::timeout(Duration::from_secs(120), engine.settled(report.accepted[0].id)).await.unwrap().unwrap();
    assert_eq!(done.state, "ready", "{done:?}");
    assert_eq!(engine.jobs().unwrap().len(), 1);
    let uploads = stack.storage().client.list_objects_v2().bucket("streamdrop-uploads").send().await.unwrap();
    let keys: Vec<_> = uploads.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "nothing of a refused file was sent: {keys:?}");
    assert!(keys[0].ends_with("/A001 good.mp4"), "{keys:?}");
    assert_eq!(trap.hits.load(Ordering::SeqCst), 0, "a playlist made Streamdrop connect to what it names");
    stack.shutdown().await;
}
