//! Errors from reading, parsing and validating a configuration.

use std::path::PathBuf;

/// Everything that can go wrong between a config file and a [`crate::Config`].
///
/// Every message names where the problem is: the file (for [`ConfigError::Read`]
/// and [`ConfigError::InFile`]), the line and column (for
/// [`ConfigError::Syntax`], which also covers unknown keys and wrong types), or
/// the key path such as `port[1].ipv4[0]` (for [`ConfigError::Invalid`]).
///
/// Inner errors are part of the message and deliberately not exposed as
/// `source()`, so that printing the chain (`anyhow`'s `{:#}`) shows each cause
/// once.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config file: {error}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// Not TOML, or TOML that does not fit the schema (unknown key, wrong
    /// type, missing required key); toml's message names the key and shows
    /// the line and column.
    #[error("{0}")]
    Syntax(Box<toml::de::Error>),
    /// Well-formed TOML whose values break a rule.
    #[error("{key}: {reason}")]
    Invalid {
        /// Key path, e.g. `port[1].ipv4[0]` or `dataplane.punt_ring_size`.
        key: String,
        /// What is wrong, e.g. `must be a power of two, got 1000`.
        reason: String,
    },
    /// An error found in a file; the message starts with the file's path.
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file that was read.
        path: PathBuf,
        /// What was wrong in it.
        error: Box<ConfigError>,
    },
}

impl ConfigError {
    /// Builds an [`ConfigError::Invalid`].
    pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError::Invalid { key: key.into(), reason: reason.into() }
    }

    /// The key path of a validation error (looking through
    /// [`ConfigError::InFile`]), or `None` for read and syntax errors.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::InFile { error, .. } => error.key(),
            ConfigError::Read { .. } | ConfigError::Syntax(_) => None,
        }
    }
}

impl From<toml::de::Error> for ConfigError {
    fn from(error: toml::de::Error) -> Self {
        ConfigError::Syntax(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_error_message_is_key_colon_reason() {
        let e = ConfigError::invalid("dataplane.burst_size", "must be between 1 and 64, got 0");
        assert_eq!(e.to_string(), "dataplane.burst_size: must be between 1 and 64, got 0");
        assert_eq!(e.key(), Some("dataplane.burst_size"));
    }

    #[test]
    fn error_in_a_file_starts_with_the_path_and_keeps_the_key() {
        let e = ConfigError::InFile {
            path: PathBuf::from("/etc/anchor/anchor.toml"),
            error: Box::new(ConfigError::invalid("port", "at least one [[port]] is required")),
        };
        assert_eq!(e.to_string(), "/etc/anchor/anchor.toml: port: at least one [[port]] is required");
        assert_eq!(e.key(), Some("port"));
    }

    #[test]
    fn errors_expose_no_source_so_chains_print_each_cause_once() {
        use std::error::Error as _;
        let e = ConfigError::Read {
            path: PathBuf::from("x.toml"),
            error: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert!(e.source().is_none());
        assert!(e.to_string().starts_with("x.toml: cannot read config file: "));
    }
}
