//! `anchord`: the Anchor daemon.
//!
//! Usage: `anchord [--config PATH] [--check]`. Without `--config` it reads
//! `config/demo.toml` when started from the repository, else
//! `/etc/anchor/anchor.toml`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: anchord [--config PATH] [--check] [--version]";

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
                println!("{USAGE}");
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
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    match run(config) {
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

fn run(config: anchor_config::Config) -> anyhow::Result<()> {
    // EAL installs no handler of its own: ours must be in place before it.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    control::daemon::run(config, stop)
}
