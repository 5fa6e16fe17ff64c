//! An editor given an AWS account, in the window only: the settings view adds
//! the connection with keys typed in, the wizard sets it up against moto
//! (judging IAM as AWS does) with the MediaConvert stand-in doing the work,
//! a refused step names the statement to add, and a dropped clip runs there.

use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use streamdrop_core::credentials::TranscoderKind;
use streamdrop_core::provisioning::permissions::needed;
use streamdrop_core::provisioning::Names;
use streamdrop_e2e::make_clip;
use streamdrop_e2e::moto::{MotoServer, MOTO_REGION};
use streamdrop_e2e::transcoder_standin::{StandInStorage, TranscoderStandIn};

use super::{drop_files, save_screenshot, wait_until, walk_files, Session, ONE_WINDOW_AT_A_TIME, READY_ROW};

const CONNECTION: &str = "Studio AWS";
/// What the wizard suggests for that name.
const PREFIX: &str = "streamdrop-studio-aws";

/// Types `text` into the field `testid`, as a person does (key by key).
async fn type_into(client: &Client, testid: &str, text: &str) {
    let css = format!(r#"[data-testid="{testid}"]"#);
    let field = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    field.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Clicks `css` once it is there (a dialog's content comes a round trip later).
async fn click(client: &Client, css: &str) {
    let element = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The connection's row in the settings view.
fn row(name: &str) -> String {
    format!(r#"[data-testid="connection"][data-name="{name}"]"#)
}

/// What the Secret Service holds for Streamdrop under `account`.
fn keychain_lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "streamdrop", "username", account])
        .output()
        .expect("secret-tool (libsecret-tools) must be installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

async fn iam_as(moto: &MotoServer, (key_id, secret): &(String, String)) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new(MOTO_REGION))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_iam::config::Credentials::new(key_id, secret, None, None, "test"))
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

fn s3_as(moto: &MotoServer, (key_id, secret): &(String, String)) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_s3::config::Region::new(MOTO_REGION))
        .endpoint_url(moto.endpoint())
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(key_id, secret, None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and the e2e build: run scripts/test-all.sh"]
async fn an_aws_connection_added_in_the_settings_is_set_up_by_the_wizard_and_runs_a_dropped_clip() {
    let _window = ONE_WINDOW_AT_A_TIME.lock().await;
    let moto = tokio::task::spawn_blocking(MotoServer::start).await.unwrap();
    let names = Names::from_prefix(PREFIX).unwrap();
    // The editor was granted what `streamdrop setup --permissions` lists, but
    // their admin left out creating roles.
    let permissions = needed(&names, "aws", TranscoderKind::MediaConvert);
    let mut statements = permissions.setup["Statement"].as_array().unwrap().clone();
    statements.extend(permissions.daily["Statement"].as_array().unwrap().iter().cloned());
    for statement in &mut statements {
        if let Some(actions) = statement["Action"].as_array_mut() {
            actions.retain(|a| a != "iam:CreateRole");
        }
    }
    let editor = moto.create_user("editor", &json!({ "Version": "2012-10-17", "Statement": statements })).await;
    let admin = moto
        .create_user(
            "admin",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        )
        .await;
    // MediaConvert's own identity, which may only assume the role that trusts it.
    let assume_only = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
    ]});
    let service = moto.create_user("mediaconvert.amazonaws.com", &assume_only).await;
    tokio::task::block_in_place(|| moto.enforce_iam());
    let standin = TranscoderStandIn::start_working(StandInStorage {
        endpoint: moto.endpoint(),
        access_key_id: service.0,
        secret_access_key: service.1,
        assumes_the_jobs_role: true,
    });

    // The app as installed, except that the AWS SDKs find MediaConvert at the stand-in.
    let mediaconvert = standin.endpoint();
    let session = Session::start_with(None, &[("AWS_ENDPOINT_URL_MEDIACONVERT", &mediaconvert)]);
    let client = session.open().await;

    // Settings → Add an AWS connection, with the keys typed in.
    click(&client, r#"[data-testid="open-settings"]"#).await;
    click(&client, r#"[data-testid="connection-add-open"]"#).await;
    type_into(&client, "connection-name", CONNECTION).await;
    type_into(&client, "access-key-id", &editor.0).await;
    type_into(&client, "secret-access-key", &editor.1).await;
    type_into(&client, "connection-region", MOTO_REGION).await;
    click(&client, r#"[data-testid="connection-advanced"]"#).await;
    type_into(&client, "connection-endpoint", &moto.endpoint()).await;
    save_screenshot(&client, "e2e-settings-add.png").await;
    click(&client, r#"[data-testid="connection-add"]"#).await;
    wait_until(
        &client,
        "the setup wizard",
        Duration::from_secs(20),
        r#"return !!document.querySelector('[data-testid="setup-wizard"]')"#,
    )
    .await;

    // The secret is in the keychain, and in no file of the app's (settings, store, log).
    let kept = keychain_lookup(&format!("{CONNECTION}/aws-keys")).expect("the keys are in the Secret Service");
    assert!(kept.contains(&editor.1), "the keychain holds the secret as typed");
    for file in walk_files(session.tmp.path()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(editor.1.len()).any(|w| w == editor.1.as_bytes()),
            "the secret access key is written in {}",
            file.display()
        );
    }
    let prefix =
        client.execute(r#"return document.querySelector('[data-testid="setup-prefix"]').value"#, vec![]).await.unwrap();
    assert_eq!(prefix, json!(PREFIX));

    // The plan: every resource, nothing changed yet.
    click(&client, r#"[data-testid="setup-plan"]"#).await;
    wait_until(
        &client,
        "the plan",
        Duration::from_secs(60),
        r#"return document.querySelector('[data-testid="setup-wizard"]').dataset.phase === 'planned'"#,
    )
    .await;
    let plan = client
        .execute(r#"return [...document.querySelectorAll('[data-testid="setup-step"]')].map(s => [s.dataset.step, s.dataset.action, s.dataset.applied])"#, vec![])
        .await
        .unwrap();
    let plan = plan.as_array().unwrap();
    assert!(plan.len() >= 8, "{plan:?}");
    assert!(plan.contains(&json!(["upload-bucket", "create", "false"])), "{plan:?}");
    assert!(plan.contains(&json!(["mediaconvert-role", "create", "false"])), "{plan:?}");
    assert!(plan.contains(&json!(["distribution", "create", "false"])), "{plan:?}");
    let buckets = s3_as(&moto, &admin).list_buckets().send().await.unwrap();
    assert!(buckets.buckets().is_empty(), "planning created nothing");

    // Apply: the role step is refused; the window names the action and the statement.
    click(&client, r#"[data-testid="setup-apply"]"#).await;
    wait_until(
        &client,
        "the refused step",
        Duration::from_secs(90),
        r#"return !!document.querySelector('[data-testid="setup-stopped"]')"#,
    )
    .await;
    let stopped = client
        .execute(
            r#"const s = document.querySelector('[data-testid="setup-stopped"]');
               return { code: s.dataset.code, message: s.querySelector('[data-testid="setup-stopped-message"]').textContent,
                        grant: s.querySelector('[data-testid="setup-grant"]')?.textContent ?? null,
                        done: [...document.querySelectorAll('[data-testid="setup-step"]')].map(x => x.dataset.step + ':' + x.dataset.action) };"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(stopped["code"], "setup-denied", "{stopped}");
    let message = stopped["message"].as_str().unwrap();
    assert!(message.contains("iam:CreateRole"), "{message}");
    assert!(!message.contains("not authorized to perform"), "AWS's raw text is behind Details: {message}");
    let grant: Value = serde_json::from_str(stopped["grant"].as_str().expect("a statement to add")).unwrap();
    assert_eq!(grant["Effect"], "Allow");
    assert_eq!(grant["Action"], "iam:CreateRole");
    assert_eq!(
        grant["Resource"],
        json!([format!("arn:aws:iam::*:role/{}", names.mediaconvert_role)]),
        "scoped to the role: {grant}"
    );
    assert_eq!(stopped["done"], json!(["upload-bucket:create", "media-bucket:create"]), "what ran before stays");
    save_screenshot(&client, "e2e-setup-denied.png").await;

    // The admin adds exactly that statement; applying again continues and finishes.
    iam_as(&moto, &admin)
        .await
        .put_user_policy()
        .user_name("editor")
        .policy_name("granted-from-the-wizard")
        .policy_document(json!({ "Version": "2012-10-17", "Statement": [grant] }).to_string())
        .send()
        .await
        .unwrap();
    click(&client, r#"[data-testid="setup-apply"]"#).await;
    wait_until(
        &client,
        "setup to finish",
        Duration::from_secs(120),
        r#"return !!document.querySelector('[data-testid="setup-done"]')"#,
    )
    .await;
    let applied = client
        .execute(r#"return [...document.querySelectorAll('[data-testid="setup-step"]')].map(s => s.dataset.step + ':' + s.dataset.action)"#, vec![])
        .await
        .unwrap();
    let applied: Vec<&str> = applied.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(applied.contains(&"upload-bucket:exists") && applied.contains(&"mediaconvert-role:create"), "{applied:?}");
    assert!(applied.contains(&"distribution:create"), "{applied:?}");
    save_screenshot(&client, "e2e-setup-done.png").await;

    // Use it: the window follows the new connection (its media origin changes, so it reloads).
    click(&client, r#"[data-testid="setup-use"]"#).await;
    wait_until(
        &client,
        "the status line to name the AWS connection",
        Duration::from_secs(60),
        &format!("return document.querySelector('[data-testid=\"app-status\"]')?.textContent.startsWith('AWS · {CONNECTION}')"),
    )
    .await;

    // A dropped clip uploads, copies and transcodes there.
    let clip = make_clip(&session.card(), "B002 rooftop.mp4", 2);
    let report = drop_files(&client, &[clip]).await;
    assert_eq!(report["accepted"][0]["connection"], CONNECTION, "{report}");
    let id = report["accepted"][0]["id"].as_str().unwrap().to_owned();
    wait_until(
        &client,
        "the clip to be ready on AWS",
        Duration::from_secs(180),
        &format!("return !!document.querySelector('{READY_ROW}')"),
    )
    .await;
    let listed = s3_as(&moto, &admin)
        .list_objects_v2()
        .bucket(&names.media_bucket)
        .prefix(format!("jobs/{id}/"))
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert!(keys.contains(&format!("jobs/{id}/original/B002 rooftop.mp4").as_str()), "{keys:?}");
    assert!(keys.contains(&format!("jobs/{id}/stream/hls/master.m3u8").as_str()), "{keys:?}");
    assert_eq!(standin.requests_to("POST", "/2017-08-29/jobs").len(), 1, "one MediaConvert job");

    // Check says who the keys are.
    click(&client, r#"[data-testid="open-settings"]"#).await;
    click(&client, &format!(r#"{} [data-testid="connection-check"]"#, row(CONNECTION))).await;
    let checked = wait_until(
        &client,
        "the check",
        Duration::from_secs(30),
        r#"return document.querySelector('[data-testid="connection-check-result"]')?.textContent"#,
    )
    .await;
    let checked = checked.as_str().unwrap();
    assert!(checked.contains("Connected as arn:aws:iam::123456789012:user/editor"), "{checked}");
    // moto refuses the editor its policy simulator, as IAM would: said in words, not as the SDK's dump.
    assert!(
        checked.contains("Permissions were not checked: this identity may not ask the policy simulator"),
        "{checked}"
    );
    save_screenshot(&client, "e2e-settings-connections.png").await;

    // Back to Local: the AWS job stays listed.
    click(&client, &format!(r#"{} [data-testid="connection-use"]"#, row("Local"))).await;
    wait_until(
        &client,
        "the status line to say Local mode",
        Duration::from_secs(60),
        "return document.querySelector('[data-testid=\"app-status\"]')?.textContent.startsWith('Local mode')",
    )
    .await;
    wait_until(
        &client,
        "the AWS job still listed",
        Duration::from_secs(20),
        &format!("return !!document.querySelector('{READY_ROW}[data-job-id=\"{id}\"]')"),
    )
    .await;

    // Preferences, saved in the same view: kept for every face, checked in Rust.
    click(&client, r#"[data-testid="open-settings"]"#).await;
    let uploads = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(r#"[data-testid="pref-uploads"]"#))
        .await
        .unwrap();
    uploads.clear().await.unwrap();
    uploads.send_keys("3").await.unwrap();
    client
        .execute(
            r#"const s = document.querySelector('[data-testid="pref-link-lifetime"]');
               s.value = String(7 * 86400); s.dispatchEvent(new Event('change', { bubbles: true }));"#,
            vec![],
        )
        .await
        .unwrap();
    click(&client, r#"[data-testid="pref-save"]"#).await;
    wait_until(
        &client,
        "the preferences to be saved",
        Duration::from_secs(20),
        r#"return !!document.querySelector('[data-testid="pref-saved"]')"#,
    )
    .await;
    let settings = std::fs::read_to_string(session.data().join("settings.json")).unwrap();
    let saved: Value = serde_json::from_str(&settings).unwrap();
    assert_eq!(saved["preferences"]["uploadConcurrency"], 3, "{settings}");
    assert_eq!(saved["preferences"]["linkLifetimeSecs"], 7 * 86_400, "{settings}");
    save_screenshot(&client, "e2e-settings-preferences.png").await;
    client.close().await.expect("close the app");
}
