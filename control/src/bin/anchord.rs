//! `anchord`: the Anchor daemon.
//!
//! Usage: `anchord [--config PATH] [--check]`. Without `--config` it reads
//! `config/demo.toml` when started from the repository, else
//! `/etc/anchor/anchor.toml`. `anchord --help` prints the whole manual.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: anchord [--config PATH] [--check] [--version] [--help]";

/// `anchord --help`: a manual page in brief, for operators without `man`.
const HELP: &str = "\
NAME
    anchord - Anchor mobility anchor daemon (PMIPv6 LMA, Mobile IPv4 home
    agent, static tunnels) on DPDK

SYNOPSIS
    anchord [--config PATH] [--check]
    anchord --version | --help

DESCRIPTION
    Reads one TOML configuration, starts the DPDK EAL, the ports and one
    polling worker per eal.worker_cpus entry, and runs the control thread
    (signalling, neighbour resolution, timers) and the operator socket that
    anchorctl talks to. Logs go to standard error (the journal under
    systemd). It runs in the foreground until a signal stops it.

OPTIONS
    -c, --config PATH
        The configuration file. Default: config/demo.toml when that exists
        (started from the source tree), else /etc/anchor/anchor.toml.
    --check
        Validate the configuration, print whether it is valid, and exit
        without starting DPDK (systemd's ExecStartPre).
    -V, --version
        Print the version and exit.
    -h, --help
        Print this help and exit.

FILES
    /etc/anchor/anchor.toml
        The configuration; start from
        /usr/share/doc/anchor/examples/production.example.toml (bare metal)
        or demo.toml beside it (every key, its default and allowed values).
    /run/anchor/anchord.sock
        The operator socket (the config's cli.socket).
    /run/dpdk/<eal.file_prefix>/
        DPDK's runtime files, with the telemetry socket: `dpdk-telemetry.py
        -f <eal.file_prefix>` answers /anchor/stats, /anchor/sessions,
        /anchor/pools (and /anchor/info, /anchor/lma, /anchor/ha,
        /anchor/dsmip6) next to DPDK's /ethdev/stats; `dpdk-dumpcap
        --file-prefix <eal.file_prefix> -i <port> -w FILE` captures a port
        live (hugepages needed: not with --no-huge). Both tools come with
        the dpdk-dev package.
    /dev/hugepages
        hugetlbfs: DPDK's packet memory and the forwarding table's 2 MiB
        pages come from hugepages reserved before the start.

ENVIRONMENT
    RUST_LOG
        Log filter (tracing EnvFilter directives); overrides log.level.

SIGNALS
    SIGTERM, SIGINT
        Stop cleanly: the workers stop, the ports are closed and the
        socket is removed; exit status 0.

EXIT STATUS
    0   stopped by a signal, or --check found the configuration valid
    1   the configuration is invalid, or the start or the run failed
    2   wrong arguments

SEE ALSO
    anchorctl --help, systemctl(1) (unit anchord.service),
    /usr/share/doc/anchor/README.md
";

fn default_config() -> PathBuf {
    let repo = PathBuf::from("config/demo.toml");
    if repo.exists() {
        repo
    } else {
        PathBuf::from("/etc/anchor/anchor.toml")
    }
}

fn main() -> ExitCode {
    let mut config_path = None;
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" | "-c" => match args.next() {
                Some(p) => config_path = Some(PathBuf::from(p)),
                None => {
                    eprintln!("anchord: --config needs a path\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--check" => check = true,
            "--version" | "-V" => {
                println!("anchord {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--help" | "-h" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("anchord: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let path = config_path.unwrap_or_else(default_config);
    let config = match anchor_config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("anchord: {e}");
            return ExitCode::from(1);
        }
    };
    if check {
        println!("anchord: {} is valid", path.display());
        return ExitCode::SUCCESS;
    }
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&config.log.level));
    let filter = match filter {
        Ok(f) => f,
        Err(e) => {
            eprintln!("anchord: log.level: {e}");
            return ExitCode::from(1);
        }
    };
    // The filter sits behind a reload handle: `anchorctl set log-level` and
    // `reload` change it while anchord runs.
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .init();
    let set_log_level = move |level: &str| -> Result<(), String> {
        let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
        handle.reload(filter).map_err(|e| e.to_string())
    };
    let hooks = control::daemon::Hooks {
        set_log_level: Box::new(set_log_level),
        config_path: Some(path.clone()),
        reload: Arc::new(AtomicBool::new(false)),
    };

    match run(config, hooks) {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("anchord: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(config: anchor_config::Config, hooks: control::daemon::Hooks) -> anyhow::Result<()> {
    // EAL installs no handler of its own: ours must be in place before it.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hooks.reload.clone())
        .context("installing the SIGHUP handler")?;
    control::daemon::run(config, stop, hooks)
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
            headings(HELP),
            [
                "NAME",
                "SYNOPSIS",
                "DESCRIPTION",
                "OPTIONS",
                "FILES",
                "ENVIRONMENT",
                "SIGNALS",
                "EXIT STATUS",
                "SEE ALSO"
            ]
        );
    }

    #[test]
    fn help_fits_in_80_columns() {
        for line in HELP.lines() {
            assert!(line.chars().count() <= 80, "{line:?}");
        }
    }

    #[test]
    fn help_names_every_argument_the_parser_accepts() {
        for arg in ["-c, --config PATH", "--check", "-V, --version", "-h, --help"] {
            assert!(HELP.contains(arg), "{arg}");
        }
    }

    #[test]
    fn help_names_the_default_config_and_the_socket() {
        assert!(HELP.contains("/etc/anchor/anchor.toml"));
        assert!(HELP.contains(&anchor_config::CliConfig::default().socket.display().to_string()));
    }
}
