//! The operations layer as the app and the CLI use it: a session on a data
//! dir, answering from the store, hosting the Local stack (the embedded S3
//! server, ffmpeg, the edge) and swapping it when the active connection
//! changes.

use std::sync::Arc;
use std::time::Duration;

use streamdrop_core::api::{Event, NewAuth, NewConnection, Phase, Session, SessionOptions, StackMode};
use streamdrop_core::credentials::{AwsKeys, MemorySecretStore};
use streamdrop_core::engine::EngineOptions;
use streamdrop_core::model::{JobId, LinkKind, Preferences};
use streamdrop_core::transfer::{BandwidthLimiter, TransferOptions};
use streamdrop_core::{DataDir, IfExists, ProblemCode, StateName};
use streamdrop_e2e::{make_clip, make_large_clip, sha256_file};
use tokio::sync::broadcast;

const MIB: u64 = 1024 * 1024;

fn data_dir(tmp: &tempfile::TempDir) -> DataDir {
    DataDir::at(tmp.path().join("data")).unwrap()
}

fn options(secrets: &Arc<MemorySecretStore>) -> SessionOptions {
    let mut options = SessionOptions::with_secrets(secrets.clone());
    options.engine.poll_interval = Duration::from_millis(100);
    options
}

fn keys_connection(name: &str, make_active: bool) -> NewConnection {
    NewConnection {
        name: name.into(),
        auth: NewAuth::Keys(AwsKeys::new("AKIDSESSIONTEST", "session-secret-4f1c", None)),
        region: Some("eu-west-1".into()),
        // Nothing listens there: nothing here may call it.
        endpoint_url: Some("http://127.0.0.1:9".into()),
        make_active,
    }
}

/// The phases announced on `events` until `last` (inclusive).
async fn phases_until(events: &mut broadcast::Receiver<Event>, last: Phase) -> Vec<Phase> {
    let mut phases = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(60), events.recv()).await.expect("an event").unwrap();
        if let Event::Status(status) = event {
            phases.push(status.phase);
            if status.phase == last {
                return phases;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_without_an_engine_queues_jobs_answers_from_the_store_and_refuses_job_actions() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecretStore::new());
    let session = Session::open(data_dir(&tmp), options(&secrets)).unwrap();
    let clip = make_clip(tmp.path(), "A001.mov", 1);
    let notes = tmp.path().join("notes.txt");
    std::fs::write(&notes, "not a video").unwrap();

    let plan = session.plan_intake(vec![clip.clone(), notes.clone()]).await;
    assert_eq!((plan.accepted.len(), plan.rejected.len()), (1, 1), "{plan:?}");
    assert!(session.jobs().unwrap().is_empty(), "a plan records nothing");
    let report = session.apply_intake(plan, IfExists::Skip).await.unwrap();
    assert_eq!(report.rejected[0].problem.code, ProblemCode::NotMedia, "{report:?}");
    let id = report.accepted[0].id;
    assert_eq!(session.jobs().unwrap().iter().map(|j| (j.id, j.state)).collect::<Vec<_>>(), [(id, StateName::Queued)]);
    assert_eq!(session.job(id).unwrap().connection, "Local");

    let outputs = session.outputs(id).unwrap();
    assert_eq!(outputs.upload, format!("s3://streamdrop-uploads/uploads/{id}/A001.mov"));
    assert_eq!(outputs.original, format!("s3://streamdrop-media/jobs/{id}/original/A001.mov"));
    assert_eq!((outputs.playlist, outputs.poster), (None, None), "nothing transcoded yet");

    let refused = session.pause(id).await.unwrap_err();
    assert_eq!(refused.code, ProblemCode::NoEngine);
    assert!(refused.message().contains("streamdrop serve"), "{}", refused.message());
    let unknown = session.job(JobId::new()).unwrap_err();
    assert_eq!(unknown.code, ProblemCode::JobNotFound);
    let status = session.status();
    assert_eq!((status.phase, status.mode, status.connection.as_str()), (Phase::Ready, StackMode::Local, "Local"));
}

/// The window's drop leaves out files already on the connection and says
/// which; only those may then be added after all, once.
#[tokio::test]
async fn a_drop_leaves_out_duplicates_and_only_those_can_be_added_after_all() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let secrets = Arc::new(MemorySecretStore::new());
    let session = Session::open(data.clone(), options(&secrets)).unwrap();
    let clip = make_clip(tmp.path(), "A001.mov", 1);
    let first = session.add(vec![clip.clone()]).await.unwrap();
    assert_eq!(first.accepted.len(), 1);

    // The same card again, the clip copied under another name too: nothing new.
    let copy = tmp.path().join("copy of A001.mov");
    std::fs::copy(&clip, &copy).unwrap();
    let again = session.add(vec![clip.clone(), copy.clone()]).await.unwrap();
    assert!(again.accepted.is_empty(), "{:?}", again.accepted);
    let skipped: Vec<_> = again.duplicates.iter().map(|d| (d.path.clone(), d.existing_job)).collect();
    assert_eq!(
        skipped,
        [(clip.display().to_string(), first.accepted[0].id), (copy.display().to_string(), first.accepted[0].id)]
    );
    assert_eq!(session.jobs().unwrap().len(), 1);

    // A path the drop did not leave out is refused, and nothing is added.
    let other = make_clip(tmp.path(), "B002.mov", 2);
    let refused = session.add_skipped(vec![copy.clone(), other]).await.unwrap_err();
    assert_eq!(refused.code, ProblemCode::NotSkipped, "{refused:?}");
    assert_eq!(session.jobs().unwrap().len(), 1);

    // A drop full of stray files lists a bounded number of them by name, the totals all of them.
    let strays = tmp.path().join("strays");
    std::fs::create_dir_all(&strays).unwrap();
    for n in 0..250 {
        std::fs::write(strays.join(format!("note {n}.txt")), "not a clip").unwrap();
    }
    std::fs::copy(&clip, strays.join("A001 again.mov")).unwrap();
    let report = session.add(vec![strays]).await.unwrap();
    assert_eq!(report.rejected.len(), streamdrop_core::api::LISTED_REFUSALS);
    assert_eq!(report.rejected_counts.iter().map(|c| c.count).sum::<u32>(), 250, "{:?}", report.rejected_counts);

    let added = session.add_skipped(vec![copy.clone()]).await.unwrap();
    assert_eq!(added.accepted.len(), 1, "{added:?}");
    assert_eq!(session.jobs().unwrap().len(), 2);
    // Once.
    assert_eq!(session.add_skipped(vec![copy]).await.unwrap_err().code, ProblemCode::NotSkipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosting_session_runs_the_local_stack_relays_job_events_and_makes_links() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let secrets = Arc::new(MemorySecretStore::new());
    // Queued before any engine ran: the hosting session's start picks it up.
    let offline = Session::open(data.clone(), options(&secrets)).unwrap();
    let early = offline.add(vec![make_clip(tmp.path(), "early.mov", 1)]).await.unwrap().accepted[0].id;

    let session = Session::open_hosting(data.clone(), options(&secrets), data.claim_for_engine().unwrap()).unwrap();
    assert_eq!(session.status().phase, Phase::Starting);
    let mut events = session.subscribe();
    session.start().await.unwrap();
    let status = session.status();
    assert_eq!(
        (status.phase, status.mode, status.transcoder.as_str()),
        (Phase::Ready, StackMode::Local, "local-ffmpeg")
    );
    assert!(status.s3_endpoint.starts_with("http://127.0.0.1:"), "{status:?}");
    let server = session.local_server().expect("Local is hosted");
    assert_eq!(server.s3_endpoint, status.s3_endpoint);

    let id = session.add(vec![make_clip(tmp.path(), "B002.mov", 2)]).await.unwrap().accepted[0].id;
    for job in [early, id] {
        let settled = tokio::time::timeout(Duration::from_secs(120), session.settled(job)).await.unwrap().unwrap();
        assert_eq!(settled.state, StateName::Ready, "{settled:?}");
    }
    // Relayed as they happen; the last may still be on its way.
    let mut seen = Vec::new();
    while !(seen.contains(&(early, StateName::Ready)) && seen.contains(&(id, StateName::Ready))) {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Ok(Event::Job(view))) => seen.push((view.id, view.state)),
            Ok(Ok(_)) => {}
            other => panic!("no more job events ({other:?}) after {seen:?}"),
        }
    }
    for job in [early, id] {
        for state in [StateName::Uploading, StateName::Transcoding, StateName::Ready] {
            assert!(seen.contains(&(job, state)), "{state} of {job} relayed: {seen:?}");
        }
    }
    assert!(session.outputs(id).unwrap().playlist.is_some_and(|p| p.ends_with("/hls/master.m3u8")));

    let stream = session.link(id, LinkKind::Stream, 3600).await.unwrap();
    assert!(stream.url.starts_with(&server.edge_url), "{}", stream.url);
    let preview = session.preview(id).await.unwrap();
    assert_eq!(session.links(id).unwrap().iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), [stream.id.as_str()]);
    assert_ne!(preview.id, stream.id);
    let refused = session.link(id, LinkKind::Preview, 60).await.unwrap_err();
    assert_eq!(refused.code, ProblemCode::PreviewIsTheApps);
    let refused = session.link(id, LinkKind::Stream, 0).await.unwrap_err();
    assert_eq!(refused.code, ProblemCode::BadLifetime);
    session.stop().await;
    assert!(session.local_server().is_none(), "stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_the_active_connection_swaps_the_stack_and_switching_back_resumes_the_upload() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let secrets = Arc::new(MemorySecretStore::new());
    let mut options = options(&secrets);
    // One 5 MiB part at a time at 10 MB/s: the upload is still running when the switch comes.
    options.engine = EngineOptions {
        upload_concurrency: 1,
        transfer: TransferOptions {
            part_size: 5 * MIB,
            multipart_threshold: 5 * MIB,
            concurrency: 1,
            bandwidth: Some(Arc::new(BandwidthLimiter::new(10_000_000))),
            ..TransferOptions::default()
        },
        poll_interval: Duration::from_millis(100),
        events: None,
    };
    let session = Session::open_hosting(data.clone(), options, data.claim_for_engine().unwrap()).unwrap();
    session.start().await.unwrap();
    session.add_connection(keys_connection("Other", false)).await.unwrap();
    let clip = make_large_clip(tmp.path(), "C003 wide.mov", (640, 360), 30 * MIB);
    let id = session.add(vec![clip.clone()]).await.unwrap().accepted[0].id;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while session.job(id).unwrap().bytes_done < 6 * MIB {
        assert!(tokio::time::Instant::now() < deadline, "the upload never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut events = session.subscribe();
    let other = session.use_connection("other").await.unwrap();
    assert_eq!((other.name.as_str(), other.active), ("Other", true), "names are matched ignoring case");
    assert_eq!(phases_until(&mut events, Phase::Failed).await, [Phase::Starting, Phase::Failed]);
    let status = session.status();
    assert_eq!(status.error.as_ref().map(|e| e.code), Some(ProblemCode::NotSetUp), "{status:?}");
    // Stopped where it was: nothing moves while another connection is active.
    let parked = session.job(id).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(session.job(id).unwrap().bytes_done, parked.bytes_done);
    assert_eq!(session.pause(id).await.unwrap_err().code, ProblemCode::NotSetUp, "the failed start says why");

    session.use_connection("Local").await.unwrap();
    assert_eq!(phases_until(&mut events, Phase::Ready).await, [Phase::Starting, Phase::Ready]);
    let job = tokio::time::timeout(Duration::from_secs(120), session.settled(id)).await.unwrap().unwrap();
    assert_eq!(job.state, StateName::Ready, "{job:?}");
    assert!(job.bytes_resumed >= 5 * MIB, "the parts sent before the switch were kept: {job:?}");
    let stored = data.local_storage_root().join("streamdrop-media").join(format!("jobs/{id}/original/C003 wide.mov"));
    assert_eq!(sha256_file(&stored), sha256_file(&clip));
    session.stop().await;
}

#[tokio::test]
async fn connections_keep_their_keys_in_the_keychain_only_and_take_them_back_on_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let secrets = Arc::new(MemorySecretStore::new());
    let session = Session::open(data.clone(), options(&secrets)).unwrap();

    let added = session.add_connection(keys_connection("Production AWS", true)).await.unwrap();
    assert_eq!(added.access_key_id.as_deref(), Some("AKIDSESSIONTEST"));
    assert!(added.connection.active);
    assert_eq!(secrets.accounts(), ["Production AWS/aws-keys"]);
    let settings = std::fs::read_to_string(data.path().join("settings.json")).unwrap();
    assert!(!settings.contains("session-secret-4f1c") && !settings.contains("AKIDSESSIONTEST"), "{settings}");
    let listed = session.connections().unwrap();
    assert_eq!(listed.active, "Production AWS");
    assert_eq!(listed.connections.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Local", "Production AWS"]);

    let twice = session.add_connection(keys_connection("production aws", false)).await.unwrap_err();
    assert_eq!(twice.code, ProblemCode::ConnectionExists);
    let local = session.add_connection(keys_connection("local", false)).await.unwrap_err();
    assert_eq!(local.code, ProblemCode::LocalIsFixed);
    let mut spaced = keys_connection("Spaced", false);
    spaced.auth = NewAuth::Keys(AwsKeys::new("AKID WITH SPACE", "secret", None));
    assert_eq!(session.add_connection(spaced).await.unwrap_err().code, ProblemCode::BadKeys);
    assert_eq!(secrets.accounts(), ["Production AWS/aws-keys"], "refused connections store nothing");

    let removed = session.remove_connection("Production AWS").await.unwrap();
    assert_eq!(removed.deleted_secrets.len(), 1, "{removed:?}");
    assert_eq!(removed.active, "Local");
    assert!(secrets.accounts().is_empty());

    // The settings cannot be written (the data dir is gone): the key does not stay behind.
    std::fs::remove_dir_all(data.path()).unwrap();
    let failed = session.add_connection(keys_connection("Staging", false)).await.unwrap_err();
    assert_eq!(failed.code, ProblemCode::SettingsUnreadable, "{failed:?}");
    assert!(secrets.accounts().is_empty(), "the key was taken back out of the keychain");
}

/// Preferences changed while uploads run hold at once, without a restart: a
/// limit slows the bytes already moving, a second upload starts beside the
/// first when more are allowed, and what is out of range is refused in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferences_changed_mid_upload_apply_to_the_running_engine_and_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(&tmp);
    let secrets = Arc::new(MemorySecretStore::new());
    // The engine as the app starts it: built-in defaults, no limit of its own.
    let session = Session::open_hosting(data.clone(), options(&secrets), data.claim_for_engine().unwrap()).unwrap();
    session.start().await.unwrap();
    assert_eq!(session.preferences().unwrap(), Preferences::default());

    let refused = session.set_preferences(Preferences { upload_concurrency: 0, ..Preferences::default() }).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code, ProblemCode::BadPreference);
    assert_eq!(refused.message(), "Uploads at once must be from 1 to 8. Change it, then save again.");
    assert_eq!(refused.params["setting"], "uploadConcurrency", "the window marks that field");

    let slow = Preferences { upload_concurrency: 1, bandwidth_limit: Some(1_000_000), ..Preferences::default() };
    session.set_preferences(slow.clone()).await.unwrap();
    let first = make_large_clip(tmp.path(), "D001 wide.mov", (640, 360), 24 * MIB);
    let second = make_large_clip(tmp.path(), "D002 close.mov", (480, 270), 20 * MIB);
    let ids: Vec<JobId> = session.add(vec![first, second]).await.unwrap().accepted.iter().map(|j| j.id).collect();
    let moving = |id: JobId| session.job(id).unwrap().bytes_done;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while moving(ids[0]) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the first upload never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // At 1 MB/s, two seconds move about 2 MB (give or take a chunk in flight).
    let before = moving(ids[0]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let moved = moving(ids[0]) - before;
    assert!(moved > 0 && moved <= 3_000_000, "the limit holds: {moved} bytes in 2 s");
    assert_eq!(moving(ids[1]), 0, "one upload at once: the second waits its turn");

    // More at once and no limit: the second starts beside the first, and both finish.
    session.set_preferences(Preferences { upload_concurrency: 2, ..Preferences::default() }).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while moving(ids[1]) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the second upload never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for id in &ids {
        let job = tokio::time::timeout(Duration::from_secs(180), session.settled(*id)).await.unwrap().unwrap();
        assert_eq!(job.state, StateName::Ready, "{job:?}");
    }
    session.stop().await;

    // Kept for the next start, which follows them from its first upload.
    let reopened = Session::open(data.clone(), options(&secrets)).unwrap();
    assert_eq!(reopened.preferences().unwrap().upload_concurrency, 2);
    let settings = std::fs::read_to_string(data.path().join("settings.json")).unwrap();
    assert!(settings.contains("\"uploadConcurrency\": 2"), "{settings}");
}
