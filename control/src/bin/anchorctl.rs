//! `anchorctl`: the operator CLI. Talks to `anchord` over its unix socket.
//!
//! Usage: `anchorctl [--socket PATH] <command> [--json]`; `anchorctl help`
//! lists the commands.

use std::path::PathBuf;
use std::process::ExitCode;

use control::cli::{self, client, render};

const DEFAULT_SOCKET: &str = "/run/anchor/anchord.sock";

fn help() -> String {
    let mut s = String::from("usage: anchorctl [--socket PATH] <command> [--json]\n\ncommands:\n");
    for (c, h) in cli::COMMANDS {
        s.push_str(&format!("  {c:<16} {h}\n"));
    }
    s
}

fn main() -> ExitCode {
    let mut socket = PathBuf::from(std::env::var("ANCHOR_SOCKET").unwrap_or_else(|_| DEFAULT_SOCKET.into()));
    let mut json = false;
    let mut words = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--socket" | "-s" => match args.next() {
                Some(p) => socket = PathBuf::from(p),
                None => {
                    eprintln!("anchorctl: --socket needs a path");
                    return ExitCode::from(2);
                }
            },
            "--json" | "-j" => json = true,
            "help" | "--help" | "-h" => {
                print!("{}", help());
                return ExitCode::SUCCESS;
            }
            _ => words.push(a),
        }
    }
    if words.is_empty() {
        eprint!("{}", help());
        return ExitCode::from(2);
    }
    let command = match cli::parse_command(&words) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("anchorctl: {e}");
            return ExitCode::from(2);
        }
    };
    match client::call(&socket, &command) {
        Ok(reply) if reply.ok => {
            let data = reply.data.unwrap_or(serde_json::Value::Null);
            if json {
                println!("{}", serde_json::to_string_pretty(&data).unwrap_or_default());
            } else {
                print!("{}", render::render(&command, &data));
            }
            ExitCode::SUCCESS
        }
        Ok(reply) => {
            eprintln!("anchorctl: {}", reply.error.unwrap_or_else(|| "the daemon refused the request".into()));
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("anchorctl: {e}");
            ExitCode::from(1)
        }
    }
}
