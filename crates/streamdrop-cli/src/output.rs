//! One way to print machine-readable results: a single JSON line on stdout.

use serde::Serialize;

pub fn json_line(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => println!("{line}"),
        Err(err) => eprintln!("streamdrop: cannot encode the result as JSON: {err}"),
    }
}
