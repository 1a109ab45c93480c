//! `--flag value` / `--flag=value` / `--switch`, parsed by hand like the load generator's.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};

/// Flags that take no value.
const SWITCHES: [&str; 1] = ["--webhooks"];

/// The parsed flags of one command.
pub struct Flags {
    values: HashMap<String, String>,
}

impl Flags {
    /// Parses the arguments after the command name.
    pub fn parse(argv: impl Iterator<Item = String>) -> Result<Self> {
        let mut values = HashMap::new();
        let mut argv = argv.peekable();
        while let Some(raw) = argv.next() {
            if !raw.starts_with("--") {
                return Err(anyhow!("unexpected argument `{raw}`"));
            }
            let (flag, value) = match raw.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), value.to_owned()),
                None if SWITCHES.contains(&raw.as_str()) => (raw, "true".to_owned()),
                None => {
                    let value = argv
                        .next()
                        .with_context(|| format!("{raw} needs a value"))?;
                    (raw, value)
                }
            };
            values.insert(flag, value);
        }
        Ok(Self { values })
    }

    /// A flag that must be given.
    pub fn required(&self, flag: &str) -> Result<&str> {
        self.optional(flag)
            .with_context(|| format!("{flag} is required"))
    }

    /// A flag that may be absent.
    pub fn optional(&self, flag: &str) -> Option<&str> {
        self.values.get(flag).map(String::as_str)
    }

    /// A numeric flag with a default.
    pub fn number<T: std::str::FromStr>(&self, flag: &str, default: T) -> Result<T> {
        match self.optional(flag) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow!("{flag}: `{v}` is not a valid number")),
        }
    }

    /// A switch.
    pub fn switch(&self, flag: &str) -> bool {
        self.optional(flag) == Some("true")
    }

    /// The namespace of the system under test (`--namespace`, empty by default).
    pub fn namespace(&self) -> Result<bluewhale::messaging::Namespace> {
        bluewhale::messaging::Namespace::new(self.optional("--namespace").unwrap_or_default())
            .map_err(anyhow::Error::msg)
    }
}

#[cfg(test)]
mod tests {
    use super::Flags;

    #[test]
    fn parses_values_switches_and_defaults() {
        let argv = ["--a", "1", "--b=two", "--webhooks"].map(String::from);
        let f = Flags::parse(argv.into_iter()).unwrap();
        assert_eq!(f.required("--a").unwrap(), "1");
        assert_eq!(f.optional("--b"), Some("two"));
        assert!(f.switch("--webhooks"));
        assert_eq!(f.number("--c", 7u32).unwrap(), 7);
        assert!(f.required("--c").is_err());
        assert!(Flags::parse(["--a"].map(String::from).into_iter()).is_err());
        assert!(Flags::parse(["x"].map(String::from).into_iter()).is_err());
    }
}
