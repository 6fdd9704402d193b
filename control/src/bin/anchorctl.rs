//! `anchorctl`: the operator CLI. Talks to `anchord` over its unix socket.
//!
//! Usage: `anchorctl [--socket PATH] <command> [--json]`; `anchorctl help`
//! prints the whole manual with the commands.

use std::path::PathBuf;
use std::process::ExitCode;

use control::cli::{self, client, render};

const DEFAULT_SOCKET: &str = "/run/anchor/anchord.sock";

/// `anchorctl --help`: a manual page in brief; the command list comes from
/// the CLI's own table, so it names every command the daemon answers.
fn help() -> String {
    let mut s = String::from(
        "\
NAME
    anchorctl - operator CLI of the Anchor daemon, anchord

SYNOPSIS
    anchorctl [--socket PATH] [--json] <command>
    anchorctl help | --help

DESCRIPTION
    Sends one command to a running anchord over its unix socket and prints
    the answer: a table for people, or with --json the daemon's data as
    JSON for scripts. The socket is mode 0660: root and the daemon's group
    (root under the packaged systemd unit) may use it.

OPTIONS
    -s, --socket PATH
        The daemon's socket (its config's cli.socket). Default:
        $ANCHOR_SOCKET, else ",
    );
    s.push_str(DEFAULT_SOCKET);
    s.push_str(
        ".
    -j, --json
        Print the reply as JSON.
    -h, --help, help
        Print this help and exit.

COMMANDS
",
    );
    for (c, h) in cli::COMMANDS {
        s.push_str(&format!("    {c}\n"));
        wrap_into(&mut s, h, "        ", 76);
    }
    s.push_str(
        "
ENVIRONMENT
    ANCHOR_SOCKET
        The socket, when --socket is not given.

FILES
    ",
    );
    s.push_str(DEFAULT_SOCKET);
    s.push_str(
        "
        anchord's default socket.

EXIT STATUS
    0   the daemon answered the command
    1   the daemon refused it, or could not be reached
    2   wrong arguments or an unknown command

SEE ALSO
    anchord --help, /usr/share/doc/anchor/README.md (\"The CLI\")
",
    );
    s
}

/// Appends `text` to `out` in lines of at most `width` columns (longer words
/// stand alone), each line starting with `indent`.
fn wrap_into(out: &mut String, text: &str, indent: &str, width: usize) {
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The unindented lines of a help text: its section headings.
    fn headings(help: &str) -> Vec<&str> {
        help.lines().filter(|l| !l.is_empty() && !l.starts_with(' ')).collect()
    }

    #[test]
    fn help_has_the_sections_of_a_manual_page_in_order() {
        assert_eq!(
            headings(&help()),
            [
                "NAME",
                "SYNOPSIS",
                "DESCRIPTION",
                "OPTIONS",
                "COMMANDS",
                "ENVIRONMENT",
                "FILES",
                "EXIT STATUS",
                "SEE ALSO"
            ]
        );
    }

    #[test]
    fn help_lists_every_command_with_its_description() {
        let help = help();
        for (c, h) in cli::COMMANDS {
            let mut entry = format!("    {c}\n");
            wrap_into(&mut entry, h, "        ", 76);
            assert!(help.contains(&entry), "{c}");
        }
    }

    #[test]
    fn help_fits_in_80_columns() {
        for line in help().lines() {
            assert!(line.chars().count() <= 80, "{line:?}");
        }
    }

    #[test]
    fn wrapping_keeps_every_word_in_order_within_the_width() {
        let text = "revoke a binding: Binding Revocation to its MAG (PMIPv6), Registration Revocation to its FA";
        let mut out = String::new();
        wrap_into(&mut out, text, "  ", 30);
        assert!(out.lines().all(|l| l.starts_with("  ") && l.len() <= 30), "{out}");
        assert_eq!(out.split_whitespace().collect::<Vec<_>>(), text.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn help_names_every_option_and_the_default_socket() {
        let help = help();
        for arg in ["-s, --socket PATH", "-j, --json", "-h, --help, help", "ANCHOR_SOCKET", DEFAULT_SOCKET] {
            assert!(help.contains(arg), "{arg}");
        }
    }
}
