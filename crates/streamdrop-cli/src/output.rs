//! One way to print results: machine-readable ones as a single JSON line on
//! stdout, problems as one plain sentence on stderr (the detail only with
//! `--verbose`).

use serde::Serialize;
use streamdrop_core::model::ProblemView;
use streamdrop_core::Problem;

pub fn json_line(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => println!("{line}"),
        Err(err) => eprintln!("streamdrop: cannot encode the result as JSON: {err}"),
    }
}

/// `streamdrop: <sentence>`, then the redacted detail when asked for.
pub fn problem(problem: &Problem, verbose: bool) {
    problem_view(&problem.view(), verbose);
}

pub fn problem_view(problem: &ProblemView, verbose: bool) {
    eprintln!("streamdrop: {}", problem.message);
    match (&problem.detail, verbose) {
        (Some(detail), true) => eprintln!("  detail: {}", detail.replace('\n', "\n  ")),
        (Some(_), false) => eprintln!("  (run with --verbose for the details)"),
        (None, _) => {}
    }
}
