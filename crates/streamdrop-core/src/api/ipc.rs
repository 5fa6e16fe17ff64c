//! What crosses the window's IPC, stated once: each command's name, its
//! arguments and its answer, and each event's name and payload. The shell
//! (`src-tauri/commands.rs`) implements exactly these commands, and the
//! TypeScript the UI imports (`ui/src/lib/ipc.generated.ts`) is generated
//! from this table and the view types ([`typescript`]); tests fail when
//! either drifts.

use std::any::TypeId;
use std::collections::HashSet;

use ts_rs::{Config, TypeVisitor, TS};

use super::{
    AddedConnection, CheckView, ConnectionForm, ConnectionView, ConnectionsView, QuitRequest, RemovedConnection,
    SetupProgress, SetupRequest, SetupView, StatusView,
};
use crate::model::{IntakeReport, JobId, JobView, LinkKind, LinkView, Preferences, ProblemView};

/// One IPC command: its name, its arguments as the webview names them
/// (camelCase), and the TypeScript of its answer. Every command that can
/// fail rejects with a [`ProblemView`] (or, for arguments the shell could not
/// even read, Tauri's own message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub answer: String,
}

/// One event the shell emits, and the TypeScript of its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKind {
    pub name: &'static str,
    pub payload: String,
}

/// The file the UI imports, relative to the repository's root.
pub const TYPESCRIPT_FILE: &str = "ui/src/lib/ipc.generated.ts";

fn config() -> Config {
    // serde_json writes integers as JSON numbers, which the webview reads as numbers.
    Config::new().with_large_int("number")
}

/// Collects the declarations of a type and of every type it names.
struct Declarations<'a> {
    cfg: &'a Config,
    seen: HashSet<TypeId>,
    decls: Vec<(String, String)>,
}

impl TypeVisitor for Declarations<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let docs = T::docs().unwrap_or_default();
        self.decls.push((T::ident(self.cfg), format!("{docs}export {}", T::decl(self.cfg))));
        T::visit_dependencies(self);
    }
}

/// Builds the tables, collecting the declarations they name.
struct Contract<'a> {
    types: Declarations<'a>,
    commands: Vec<Command>,
    events: Vec<EventKind>,
}

impl<'a> Contract<'a> {
    fn name_of<T: TS + 'static>(&mut self) -> String {
        self.types.visit::<T>();
        T::visit_dependencies(&mut self.types);
        T::name(self.types.cfg)
    }

    fn command<A: TS + 'static>(&mut self, name: &'static str, args: Vec<(&'static str, String)>) {
        let answer = self.name_of::<A>();
        self.commands.push(Command { name, args, answer });
    }

    fn event<P: TS + 'static>(&mut self, name: &'static str) {
        let payload = self.name_of::<P>();
        self.events.push(EventKind { name, payload });
    }
}

/// The commands and events, with the declarations of the types they use.
fn contract(cfg: &Config) -> Contract<'_> {
    let mut c = Contract {
        types: Declarations { cfg, seen: HashSet::new(), decls: Vec::new() },
        commands: Vec::new(),
        events: Vec::new(),
    };
    let id = c.name_of::<JobId>();
    let job = |c: &mut Contract, name| c.command::<JobView>(name, vec![("id", id.clone())]);
    c.command::<Vec<JobView>>("list_jobs", vec![]);
    c.command::<Vec<JobId>>("clear_finished", vec![]);
    c.command::<IntakeReport>("pick_files", vec![]);
    c.command::<IntakeReport>("pick_folders", vec![]);
    let paths = c.name_of::<Vec<String>>();
    c.command::<IntakeReport>("add_skipped", vec![("paths", paths)]);
    c.command::<StatusView>("app_status", vec![]);
    job(&mut c, "pause_job");
    job(&mut c, "resume_job");
    job(&mut c, "cancel_job");
    job(&mut c, "retry_job");
    job(&mut c, "add_again_job");
    c.command::<String>("preview_url", vec![("jobId", id.clone())]);
    c.command::<String>("poster_url", vec![("jobId", id.clone())]);
    let kind = c.name_of::<LinkKind>();
    let seconds = c.name_of::<u64>();
    c.command::<LinkView>("create_link", vec![("jobId", id.clone()), ("kind", kind), ("expiresInSeconds", seconds)]);
    c.command::<Vec<LinkView>>("list_links", vec![("jobId", id.clone())]);
    let text = c.name_of::<String>();
    c.command::<LinkView>("revoke_link", vec![("linkId", text.clone())]);
    c.command::<()>("copy_text", vec![("text", text)]);
    c.command::<()>("show_log_file", vec![]);
    c.command::<ConnectionsView>("list_connections", vec![]);
    let form = c.name_of::<ConnectionForm>();
    c.command::<AddedConnection>("add_connection", vec![("connection", form)]);
    let name = c.name_of::<String>();
    c.command::<CheckView>("check_connection", vec![("name", name.clone())]);
    c.command::<ConnectionView>("use_connection", vec![("name", name.clone())]);
    c.command::<RemovedConnection>("remove_connection", vec![("name", name)]);
    let request = c.name_of::<SetupRequest>();
    c.command::<SetupView>("plan_setup", vec![("request", request.clone())]);
    c.command::<SetupView>("apply_setup", vec![("request", request)]);
    c.command::<Preferences>("get_preferences", vec![]);
    let preferences = c.name_of::<Preferences>();
    c.command::<Preferences>("set_preferences", vec![("preferences", preferences)]);
    c.command::<()>("confirm_quit", vec![]);
    c.name_of::<ProblemView>();

    c.event::<JobView>("job-updated");
    c.event::<IntakeReport>("intake");
    c.event::<StatusView>("app-ready");
    c.event::<QuitRequest>("quit-requested");
    c.event::<SetupProgress>("setup-step");
    c
}

/// The IPC commands the shell implements.
pub fn commands() -> Vec<Command> {
    contract(&config()).commands
}

/// The events the shell emits.
pub fn events() -> Vec<EventKind> {
    contract(&config()).events
}

/// The TypeScript of the whole contract: every type (sorted by name), then
/// `Commands` (name → args and answer) and `Events` (name → payload).
pub fn typescript() -> String {
    let cfg = config();
    let mut contract = contract(&cfg);
    contract.types.decls.sort();
    let mut out = String::from(
        "// Generated from the Rust types by `streamdrop_core::api::ipc::typescript()`.\n\
         // Do not edit: change the Rust types, then run\n\
         //   UPDATE_IPC_TYPES=1 cargo test -p streamdrop-e2e --test e2e ipc_contract\n\n",
    );
    for (_, decl) in &contract.types.decls {
        out.push_str(decl);
        out.push_str("\n\n");
    }
    out.push_str("/** Each IPC command: its arguments and what it answers. */\nexport type Commands = {\n");
    for command in &contract.commands {
        let args: Vec<String> = command.args.iter().map(|(name, ty)| format!("{name}: {ty}")).collect();
        let args =
            if args.is_empty() { "Record<string, never>".to_owned() } else { format!("{{ {} }}", args.join("; ")) };
        out.push_str(&format!("  {}: {{ args: {args}; answer: {} }};\n", command.name, command.answer));
    }
    out.push_str("};\n\n/** Each event the shell emits, and its payload. */\nexport type Events = {\n");
    for event in &contract.events {
        out.push_str(&format!("  '{}': {};\n", event.name, event.payload));
    }
    out.push_str("};\n");
    out
}
