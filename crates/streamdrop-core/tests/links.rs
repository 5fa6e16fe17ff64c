//! Signed playback links end to end in local mode: a job transcoded by ffmpeg,
//! a link made, and the whole stream read through the local edge by that link
//! alone; links that must not work get 403.

use std::time::Duration;

use sha2::{Digest, Sha256};
use streamdrop_core::engine::EngineOptions;
use streamdrop_core::model::LinkKind;
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::{DataDir, Engine, JobId, LocalStack};

use streamdrop_e2e::make_clip_sized as make_clip;

/// A plain HTTP/1.1 GET; returns the status and body.
async fn get(url: &str) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut socket = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    let head = String::from_utf8_lossy(&response[..head_end]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, response[head_end..].to_vec())
}

fn uris(playlist: &str) -> Vec<String> {
    playlist.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

/// A local stack on a data dir under `dir`, and its engine polling often.
async fn local_stack_and_engine(dir: &std::path::Path) -> (DataDir, LocalStack, Engine) {
    let data = DataDir::at(dir.join("data")).unwrap();
    let stack = LocalStack::start(&data, LocalStackOptions::default()).await.unwrap();
    let engine = stack
        .start_engine(&data, EngineOptions { poll_interval: Duration::from_millis(200), ..EngineOptions::default() })
        .unwrap();
    (data, stack, engine)
}

async fn ready(engine: &Engine, id: JobId) {
    let view = tokio::time::timeout(Duration::from_secs(180), engine.settled(id)).await.expect("settles").unwrap();
    assert_eq!(view.state, "ready", "{view:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_link_plays_everything_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, stack, engine) = local_stack_and_engine(tmp.path()).await;
    let a_clip = make_clip(tmp.path(), "A take.mp4", "1280x720", 3);
    let b_clip = make_clip(tmp.path(), "B take.mp4", "320x180", 3);
    let report = engine.add_paths([a_clip.clone(), b_clip]).await;
    let (a, b) = (report.accepted[0].id, report.accepted[1].id);
    ready(&engine, a).await;
    ready(&engine, b).await;

    let linker = stack.linker(&data).unwrap();
    let link = linker.link_job(a, LinkKind::Stream, 3600).await.unwrap();
    assert!(link.url.starts_with(&format!("{}/jobs/{a}/stream/links/", stack.edge_url())), "{}", link.url);
    assert!(link.url.contains("Policy=") && link.url.contains("Signature=") && link.url.contains("Key-Pair-Id="));
    assert!(link.url.ends_with("&Hash-Algorithm=SHA256"), "the local key signs with SHA-256: {}", link.url);

    // Every variant and every segment, by the link alone.
    let (status, master) = get(&link.url).await;
    assert_eq!(status, 200);
    let master = String::from_utf8(master).unwrap();
    let variants = uris(&master);
    assert_eq!(variants.len(), 3, "720p, 540p and 360p: {master}");
    let mut segments = 0;
    for variant in &variants {
        assert!(variant.contains("Signature="), "every URI carries the signature: {variant}");
        let (status, body) = get(variant).await;
        assert_eq!(status, 200, "{variant}");
        for segment in uris(&String::from_utf8(body).unwrap()) {
            let (status, bytes) = get(&segment).await;
            assert_eq!(status, 200, "{segment}");
            assert!(!bytes.is_empty());
            segments += 1;
        }
    }
    assert!(segments >= 3, "{segments}");

    // A player reads the whole stream through the edge.
    let played = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", &link.url, "-map", "0", "-f", "null", "-"])
        .output()
        .await
        .unwrap();
    assert!(played.status.success(), "{}", String::from_utf8_lossy(&played.stderr));

    // The listed links, poster and original.
    assert_eq!(
        linker.list(a).unwrap().iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&link.id)
    );
    let original = linker.link_job(a, LinkKind::Original, 600).await.unwrap();
    let (status, bytes) = get(&original.url).await;
    assert_eq!(status, 200);
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(std::fs::read(&a_clip).unwrap()));
    // The stream link's signature does not open the original camera file: only an original link does.
    let stream_query = &link.url[link.url.find('?').unwrap()..];
    let original_path = &original.url[..original.url.find('?').unwrap()];
    assert!(original_path.contains(&format!("/jobs/{a}/original/")), "{original_path}");
    let (status, _) = get(&format!("{original_path}{stream_query}")).await;
    assert_eq!(status, 403, "a stream link opened the original");
    let poster = linker.link_job(a, LinkKind::Poster, 600).await.unwrap();
    let (status, jpeg) = get(&poster.url).await;
    assert_eq!((status, &jpeg[..2]), (200, &[0xff, 0xd8][..]));
    // The list's poster: the same image through the edge, and not kept as a link people made.
    let kept = linker.list(a).unwrap().len();
    let list_poster = linker.poster_preview(a).await.unwrap();
    assert!(list_poster.starts_with(stack.edge_url()), "{list_poster}");
    assert_eq!(get(&list_poster).await, (200, jpeg.clone()));
    assert_eq!(linker.list(a).unwrap().len(), kept);
    let (status, _) = get(&list_poster.replacen("/poster", "/Poster", 1)).await;
    assert_eq!(status, 403, "the poster's signature opens the poster only");

    // A's signature on B's path: refused.
    let query = &link.url[link.url.find('?').unwrap()..];
    let (status, _) = get(&format!("{}/jobs/{b}/hls/master.m3u8{query}", stack.edge_url())).await;
    assert_eq!(status, 403, "a link must not open another job");

    // A tampered signature: refused.
    let tampered = link.url.replacen("Signature=", "Signature=A", 1);
    assert_eq!(get(&tampered).await.0, 403);

    // An expired link: refused once its second is up.
    let short = linker.link_job(a, LinkKind::Stream, 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(get(&short.url).await.0, 403);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_wait_for_a_ready_job() {
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path().join("data")).unwrap();
    let stack = LocalStack::start(&data, LocalStackOptions::default()).await.unwrap();
    let engine = stack.start_engine(&data, EngineOptions::default()).unwrap();
    let clip = make_clip(tmp.path(), "still queued.mp4", "320x180", 3);
    let id = engine.add_paths([clip]).await.accepted[0].id;
    // Just added: queued for its upload, far from ready.
    let err = stack.linker(&data).unwrap().link_job(id, LinkKind::Stream, 60).await.unwrap_err();
    assert!(err.to_string().contains("not ready"), "{err}");
    let err = stack.linker(&data).unwrap().poster_preview(id).await.unwrap_err();
    assert!(err.to_string().contains("not ready"), "{err}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_transcoded_before_outputs_moved_under_stream_still_links_without_opening_its_original() {
    use streamdrop_core::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let (data, stack, engine) = local_stack_and_engine(tmp.path()).await;
    let id = engine.add_paths([make_clip(tmp.path(), "old take.mp4", "320x180", 2)]).await.accepted[0].id;
    ready(&engine, id).await;
    // As an earlier version left it: the outputs beside the original, no manifest on record.
    let job_dir = data.local_storage_root().join("streamdrop-media").join(format!("jobs/{id}"));
    for entry in std::fs::read_dir(job_dir.join("stream")).unwrap() {
        let entry = entry.unwrap();
        std::fs::rename(entry.path(), job_dir.join(entry.file_name())).unwrap();
    }
    let store = Store::open(&data.store_file()).unwrap();
    let mut record = store.get(id).unwrap().unwrap().transcode;
    record.manifest = None;
    store.set_transcode(id, &record).unwrap();

    let linker = stack.linker(&data).unwrap();
    let link = linker.link_job(id, LinkKind::Stream, 600).await.unwrap();
    assert!(link.url.starts_with(&format!("{}/jobs/{id}/hls/links/", stack.edge_url())), "{}", link.url);
    let played = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", &link.url, "-map", "0", "-f", "null", "-"])
        .output()
        .await
        .unwrap();
    assert!(played.status.success(), "{}", String::from_utf8_lossy(&played.stderr));
    let query = &link.url[link.url.find('?').unwrap()..];
    let original = format!("{}/jobs/{id}/original/old%20take.mp4{query}", stack.edge_url());
    assert_eq!(get(&original).await.0, 403, "the stream link opened the original");
    stack.shutdown().await;
}

/// A transcoder's playlists are data, not instructions: one that names another
/// host, another job or the original (absolutely or by climbing out with
/// `..`) gets no link, and the link's signature is written nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_playlist_naming_anything_outside_the_jobs_stream_gets_no_link() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, stack, engine) = local_stack_and_engine(tmp.path()).await;
    let id = engine.add_paths([make_clip(tmp.path(), "take.mp4", "320x180", 2)]).await.accepted[0].id;
    ready(&engine, id).await;
    let linker = stack.linker(&data).unwrap();
    let stream = data.local_storage_root().join("streamdrop-media").join(format!("jobs/{id}/stream"));
    let hls = format!("jobs/{id}/stream/hls");
    // Written as a transcoder would: through the S3 API.
    let put = |name: String, body: String| {
        let client = stack.storage().client.clone();
        let key = format!("{hls}/{name}");
        async move {
            client
                .put_object()
                .bucket("streamdrop-media")
                .key(key)
                .body(body.into_bytes().into())
                .send()
                .await
                .unwrap();
        }
    };
    let master = std::fs::read_to_string(stream.join("hls/master.m3u8")).unwrap();
    let variant_name = uris(&master).into_iter().next().expect("a variant");
    let variant = std::fs::read_to_string(stream.join("hls").join(&variant_name)).unwrap();
    let edge = stack.edge_url();
    let other_port = edge.rsplit(':').next().unwrap().parse::<u16>().unwrap() - 1;

    let hostile_variants = [
        "http://127.0.0.1:9/trap.m3u8".to_owned(),
        format!("http://127.0.0.1:{other_port}/jobs/{id}/stream/hls/{variant_name}"),
        format!("{edge}/jobs/{}/stream/hls/{variant_name}", JobId::new()),
        "../../original/take.m3u8".to_owned(),
        "%2E%2E/%2e%2e/original/take.m3u8".to_owned(),
    ];
    for hostile in &hostile_variants {
        let forged = master.replacen(&variant_name, hostile, 1);
        put("master.m3u8".into(), forged).await;
        let err = linker.link_job(id, LinkKind::Stream, 600).await.unwrap_err();
        assert!(err.to_string().contains("outside the job's stream"), "{hostile}: {err}");
    }
    put("master.m3u8".into(), master.clone()).await;
    for hostile in ["https://example.invalid/seg.ts", "../../../original/take.mp4"] {
        let forged = variant.replacen(uris(&variant)[0].as_str(), hostile, 1);
        put(variant_name.clone(), forged).await;
        let err = linker.link_job(id, LinkKind::Stream, 600).await.unwrap_err();
        assert!(err.to_string().contains("outside the job's stream"), "{hostile}: {err}");
    }
    put(variant_name.clone(), variant.clone()).await;
    // No per-link playlist was written for any refused link; the honest playlists still link.
    assert!(!stream.join("links").exists() || std::fs::read_dir(stream.join("links")).unwrap().next().is_none());
    let link = linker.link_job(id, LinkKind::Stream, 600).await.unwrap();
    assert_eq!(get(&link.url).await.0, 200);
    stack.shutdown().await;
}

/// The app's preview reuses a preview link only when it is on this edge: an
/// earlier edge whose port merely starts with this one's (`:1234` and
/// `:12345`) does not count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_reuses_only_links_on_this_very_edge() {
    use streamdrop_core::model::LinkView;
    use streamdrop_core::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let (data, stack, engine) = local_stack_and_engine(tmp.path()).await;
    let id = engine.add_paths([make_clip(tmp.path(), "take.mp4", "320x180", 2)]).await.accepted[0].id;
    ready(&engine, id).await;
    let far =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 86_400) * 1000;
    let elsewhere = LinkView {
        id: "elsewhere".into(),
        job_id: id,
        kind: LinkKind::Preview,
        url: format!("{}7/jobs/{id}/stream/links/x/master.m3u8?Signature=x", stack.edge_url()),
        expires_at: far,
        created_at: 0,
        revoked_at: None,
        deploying: false,
    };
    Store::open(&data.store_file()).unwrap().insert_link(&elsewhere).unwrap();

    let preview = stack.linker(&data).unwrap().preview_job(id).await.unwrap();
    assert_ne!(preview.id, "elsewhere", "reused a link on another edge: {}", preview.url);
    assert!(preview.url.starts_with(&format!("{}/", stack.edge_url())), "{}", preview.url);
    assert_eq!(get(&preview.url).await.0, 200);
    let again = stack.linker(&data).unwrap().preview_job(id).await.unwrap();
    assert_eq!(again.id, preview.id, "a preview on this edge is reused");
    stack.shutdown().await;
}

/// A revoked link stops at once: its playlists, its variants and the segments
/// a player already knows all answer 403 on the next request (the edge refuses
/// its signature), its own playlists are deleted, other links of the job go
/// on playing, and revoking again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_link_stops_at_once_and_only_it_does() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, stack, engine) = local_stack_and_engine(tmp.path()).await;
    let id = engine.add_paths([make_clip(tmp.path(), "take.mp4", "320x180", 3)]).await.accepted[0].id;
    ready(&engine, id).await;
    let linker = stack.linker(&data).unwrap();
    let sent = linker.link_job(id, LinkKind::Stream, 3600).await.unwrap();
    let kept = linker.link_job(id, LinkKind::Stream, 3600).await.unwrap();
    let poster = linker.link_job(id, LinkKind::Poster, 3600).await.unwrap();

    // A player that has read the playlists holds segment URLs.
    let (_, master) = get(&sent.url).await;
    let variant = uris(&String::from_utf8(master).unwrap())[0].clone();
    let (_, media) = get(&variant).await;
    let segment = uris(&String::from_utf8(media).unwrap())[0].clone();
    assert_eq!(get(&segment).await.0, 200);

    let revoked = linker.revoke(&sent.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    for url in [&sent.url, &variant, &segment] {
        assert_eq!(get(url).await.0, 403, "{url} still opens after the revoke");
    }
    let own = data.local_storage_root().join(format!("streamdrop-media/jobs/{id}/stream/links/{}", sent.id));
    assert!(!own.join("master.m3u8").exists(), "the link's own playlists are deleted");

    // The job's other links are not touched.
    let played = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", &kept.url, "-map", "0", "-f", "null", "-"])
        .output()
        .await
        .unwrap();
    assert!(played.status.success(), "{}", String::from_utf8_lossy(&played.stderr));
    assert_eq!(get(&poster.url).await.0, 200);

    // A poster link is revoked the same way; listed links say which are.
    linker.revoke(&poster.id).await.unwrap();
    assert_eq!(get(&poster.url).await.0, 403);
    let listed = linker.list(id).unwrap();
    let state: Vec<_> = listed.iter().map(|l| (l.id.as_str(), l.revoked_at.is_some())).collect();
    assert_eq!(state, [(poster.id.as_str(), true), (kept.id.as_str(), false), (sent.id.as_str(), true)]);
    assert_eq!(linker.revoke(&sent.id).await.unwrap().revoked_at, revoked.revoked_at, "revoking again changes nothing");
    let err = linker.revoke("no-such-link").await.unwrap_err();
    assert!(err.to_string().contains("no link with id no-such-link"), "{err}");
    stack.shutdown().await;
}
