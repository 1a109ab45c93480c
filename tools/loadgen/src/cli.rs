//! Command-line flags of the load generator, parsed by hand (`--flag value` or `--flag=value`).

use std::fmt;

/// Default password when neither `--password` nor `BLUEWHALE_DEMO_PASSWORD` is given.
const DEFAULT_PASSWORD: &str = "bluewhale-demo";

/// Help text printed for `--help` and after a usage error.
pub const USAGE: &str = "\
loadgen: Blue Whale benchmark (DESIGN.md section 8)

USAGE: loadgen [FLAGS]

  --base-url URL          ingress base URL                  [http://127.0.0.1:8080]
  --nats-url URL          NATS server                       [nats://127.0.0.1:14222]
  --namespace NS          BW_NAMESPACE of the system (subjects <NS>.bw.…) [\"\"]
  --database-url URL      PostgreSQL (naive-tx baseline)    [postgres://postgres@127.0.0.1:5432/bluewhale]
  --email EMAIL           station user                      [station@demo.bluewhale.test]
  --password PW           its password        [$BLUEWHALE_DEMO_PASSWORD, else bluewhale-demo]
  --orders N              orders to submit                  [20000]
  --concurrency C         in-flight requests (closed loop)  [64]
  --suppliers S           distinct suppliers per order      [3]
  --rate R                open model: start R requests/s instead of a closed loop
  --ingress-only          do not wait for processing (run with workers stopped)
  --timeout-secs T        wait at most T s for events after the last submit [300]
  --ingress-pid PID       sample this process's RSS (repeatable)
  --worker-pid PID        sample this process's RSS (repeatable)
  --skip-baselines        do not measure the JetStream / naive-transaction baselines
  --baselines-only        measure the baselines only (no HTTP, no orders)
  --baseline-messages N   messages per JetStream baseline   [20000]
  --baseline-secs S       duration of the naive-tx baseline [5]
  --delete-streams-after  delete the namespace's streams when done (bench namespaces)
  --accepted-file PATH    write the id of every accepted order there, one per line, when done
  --help                  print this help

Exit code: 0 when the run completed (targets may be missed), 1 on errors, rejected or
missing orders, or a failed baseline, 2 on a usage error.
";

/// Everything the load generator needs to know, after defaults are applied.
#[derive(Clone, PartialEq)]
pub struct Args {
    /// Ingress base URL, without a trailing slash.
    pub base_url: String,
    /// NATS server URL (core subscriptions and the publish baseline).
    pub nats_url: String,
    /// Prefix of every NATS subject (test isolation).
    pub namespace: String,
    /// PostgreSQL URL used by the naive-transaction baseline.
    pub database_url: String,
    /// Login of the station user that submits the orders.
    pub email: String,
    /// Its password (never printed).
    pub password: String,
    /// Number of orders to submit.
    pub orders: u64,
    /// In-flight requests in closed-loop mode.
    pub concurrency: usize,
    /// Distinct suppliers per order.
    pub suppliers: usize,
    /// Whether to skip waiting for processing events.
    pub ingress_only: bool,
    /// Seconds to wait for events after the last submission.
    pub timeout_secs: u64,
    /// Ingress processes whose memory is sampled.
    pub ingress_pids: Vec<u32>,
    /// Worker processes whose memory is sampled.
    pub worker_pids: Vec<u32>,
    /// Whether to skip the baselines.
    pub skip_baselines: bool,
    /// Whether to run the baselines and nothing else.
    pub baselines_only: bool,
    /// Delete the namespace's streams when done (benchmark namespaces only).
    pub delete_streams_after: bool,
    /// Where to write the ids of the accepted orders (the fault checker reads them).
    pub accepted_file: Option<String>,
    /// Open-model start rate in requests per second, if any.
    pub rate: Option<f64>,
    /// Messages published by each JetStream baseline.
    pub baseline_messages: u64,
    /// Duration of the naive-transaction baseline in seconds.
    pub baseline_secs: u64,
}

// Hand-written so that the password never reaches a log line (DESIGN §7.7 in spirit).
impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Args")
            .field("base_url", &self.base_url)
            .field("nats_url", &self.nats_url)
            .field("namespace", &self.namespace)
            .field("database_url", &self.database_url)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("orders", &self.orders)
            .field("concurrency", &self.concurrency)
            .field("suppliers", &self.suppliers)
            .field("ingress_only", &self.ingress_only)
            .field("timeout_secs", &self.timeout_secs)
            .field("ingress_pids", &self.ingress_pids)
            .field("worker_pids", &self.worker_pids)
            .field("skip_baselines", &self.skip_baselines)
            .field("baselines_only", &self.baselines_only)
            .field("delete_streams_after", &self.delete_streams_after)
            .field("accepted_file", &self.accepted_file)
            .field("rate", &self.rate)
            .field("baseline_messages", &self.baseline_messages)
            .field("baseline_secs", &self.baseline_secs)
            .finish()
    }
}

impl Args {
    /// The defaults, with the password taken from `env_password` when present.
    pub fn defaults(env_password: Option<String>) -> Self {
        Self {
            base_url: "http://127.0.0.1:8080".into(),
            nats_url: "nats://127.0.0.1:14222".into(),
            namespace: String::new(),
            database_url: "postgres://postgres@127.0.0.1:5432/bluewhale".into(),
            email: "station@demo.bluewhale.test".into(),
            password: env_password
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_PASSWORD.into()),
            orders: 20_000,
            concurrency: 64,
            suppliers: 3,
            ingress_only: false,
            timeout_secs: 300,
            ingress_pids: Vec::new(),
            worker_pids: Vec::new(),
            skip_baselines: false,
            baselines_only: false,
            delete_streams_after: false,
            accepted_file: None,
            rate: None,
            baseline_messages: 20_000,
            baseline_secs: 5,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Run the benchmark with these arguments.
    Run(Box<Args>),
    /// Print the help text and exit successfully.
    Help,
}

/// Parses the arguments (without the program name); `env_password` is `BLUEWHALE_DEMO_PASSWORD`.
pub fn parse<I>(argv: I, env_password: Option<String>) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
{
    let mut args = Args::defaults(env_password);
    let mut it = argv.into_iter();
    while let Some(raw) = it.next() {
        // Accept `--flag=value` as well as `--flag value`: scripts write both.
        let (flag, inline) = match raw.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (raw.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--base-url" => args.base_url = value(&flag)?.trim_end_matches('/').to_string(),
            "--nats-url" => args.nats_url = value(&flag)?,
            "--namespace" => args.namespace = value(&flag)?,
            "--database-url" => args.database_url = value(&flag)?,
            "--email" => args.email = value(&flag)?,
            "--password" => args.password = value(&flag)?,
            "--orders" => args.orders = number(&flag, &value(&flag)?)?,
            "--concurrency" => args.concurrency = number(&flag, &value(&flag)?)?,
            "--suppliers" => args.suppliers = number(&flag, &value(&flag)?)?,
            "--timeout-secs" => args.timeout_secs = number(&flag, &value(&flag)?)?,
            "--ingress-pid" => args.ingress_pids.push(number(&flag, &value(&flag)?)?),
            "--worker-pid" => args.worker_pids.push(number(&flag, &value(&flag)?)?),
            "--baseline-messages" => args.baseline_messages = number(&flag, &value(&flag)?)?,
            "--baseline-secs" => args.baseline_secs = number(&flag, &value(&flag)?)?,
            "--accepted-file" => args.accepted_file = Some(value(&flag)?),
            "--rate" => {
                let v = value(&flag)?;
                let r: f64 = v
                    .parse()
                    .map_err(|_| format!("--rate: `{v}` is not a number"))?;
                if !(r.is_finite() && r > 0.0) {
                    return Err(format!("--rate must be a positive number, got `{v}`"));
                }
                args.rate = Some(r);
            }
            "--ingress-only"
            | "--skip-baselines"
            | "--baselines-only"
            | "--delete-streams-after" => {
                if inline.is_some() {
                    return Err(format!("{flag} takes no value"));
                }
                match flag.as_str() {
                    "--ingress-only" => args.ingress_only = true,
                    "--skip-baselines" => args.skip_baselines = true,
                    "--delete-streams-after" => args.delete_streams_after = true,
                    _ => args.baselines_only = true,
                }
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    validate(&args)?;
    Ok(Command::Run(Box::new(args)))
}

/// Parses an unsigned integer flag value.
fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{flag}: `{v}` is not a valid non-negative integer"))
}

/// Rejects combinations that cannot produce a meaningful run.
fn validate(a: &Args) -> Result<(), String> {
    if a.orders == 0 {
        return Err("--orders must be at least 1".into());
    }
    if a.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    if a.suppliers == 0 {
        return Err("--suppliers must be at least 1".into());
    }
    if a.skip_baselines && a.baselines_only {
        return Err("--skip-baselines and --baselines-only exclude each other".into());
    }
    if a.accepted_file.is_some() && (a.ingress_only || a.baselines_only) {
        return Err(
            "--accepted-file needs the end-to-end run (no --ingress-only or --baselines-only)"
                .into(),
        );
    }
    if a.baseline_messages < 4 {
        return Err("--baseline-messages must be at least 4".into());
    }
    if a.baseline_secs == 0 {
        return Err("--baseline-secs must be at least 1".into());
    }
    if !(a.base_url.starts_with("http://") || a.base_url.starts_with("https://")) {
        return Err(format!(
            "--base-url must start with http:// (got `{}`)",
            a.base_url
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &[&str]) -> Result<Command, String> {
        parse(v.iter().map(|s| s.to_string()), None)
    }

    fn args(v: &[&str]) -> Args {
        match run(v) {
            Ok(Command::Run(a)) => *a,
            other => panic!("expected Run, got {other:?}"),
        }
    }

    #[test]
    fn defaults_match_the_brief() {
        let a = args(&[]);
        assert_eq!(a.base_url, "http://127.0.0.1:8080");
        assert_eq!(a.nats_url, "nats://127.0.0.1:14222");
        assert_eq!(a.namespace, "");
        assert_eq!(
            a.database_url,
            "postgres://postgres@127.0.0.1:5432/bluewhale"
        );
        assert_eq!(a.email, "station@demo.bluewhale.test");
        assert_eq!(a.password, "bluewhale-demo");
        assert_eq!((a.orders, a.concurrency, a.suppliers), (20_000, 64, 3));
        assert_eq!(a.timeout_secs, 300);
        assert!(!a.ingress_only && !a.skip_baselines && !a.baselines_only);
        assert_eq!(a.rate, None);
    }

    #[test]
    fn password_comes_from_env_unless_given() {
        let from_env = parse(Vec::<String>::new(), Some("s3cret".into())).unwrap();
        assert!(matches!(from_env, Command::Run(a) if a.password == "s3cret"));
        let empty_env = parse(Vec::<String>::new(), Some(String::new())).unwrap();
        assert!(matches!(empty_env, Command::Run(a) if a.password == "bluewhale-demo"));
        let flag = parse(["--password", "x"].map(String::from), Some("s3cret".into())).unwrap();
        assert!(matches!(flag, Command::Run(a) if a.password == "x"));
    }

    #[test]
    fn parses_every_flag() {
        let a = args(&[
            "--base-url",
            "http://h:1/",
            "--nats-url",
            "nats://n:2",
            "--namespace",
            "t1",
            "--database-url",
            "postgres://p/db",
            "--email",
            "a@b",
            "--orders",
            "5",
            "--concurrency=8",
            "--suppliers",
            "2",
            "--ingress-only",
            "--timeout-secs",
            "9",
            "--ingress-pid",
            "10",
            "--worker-pid",
            "11",
            "--worker-pid=12",
            "--skip-baselines",
            "--rate",
            "1500.5",
            "--baseline-messages",
            "100",
            "--baseline-secs",
            "2",
        ]);
        assert_eq!(a.base_url, "http://h:1");
        assert_eq!(a.nats_url, "nats://n:2");
        assert_eq!(a.namespace, "t1");
        assert_eq!(a.database_url, "postgres://p/db");
        assert_eq!(a.email, "a@b");
        assert_eq!((a.orders, a.concurrency, a.suppliers), (5, 8, 2));
        assert!(a.ingress_only && a.skip_baselines);
        assert_eq!(a.timeout_secs, 9);
        assert_eq!(a.ingress_pids, vec![10]);
        assert_eq!(a.worker_pids, vec![11, 12]);
        assert_eq!(a.rate, Some(1500.5));
        assert_eq!((a.baseline_messages, a.baseline_secs), (100, 2));
        assert_eq!(a.accepted_file, None);
        let e2e = args(&["--accepted-file", "/tmp/accepted"]);
        assert_eq!(e2e.accepted_file.as_deref(), Some("/tmp/accepted"));
    }

    #[test]
    fn help_wins() {
        assert_eq!(run(&["--orders", "3", "--help"]), Ok(Command::Help));
        assert_eq!(run(&["-h"]), Ok(Command::Help));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(run(&["--orders"]).unwrap_err().contains("needs a value"));
        assert!(run(&["--orders", "-1"]).is_err());
        assert!(run(&["--orders", "0"]).is_err());
        assert!(run(&["--concurrency", "0"]).is_err());
        assert!(run(&["--rate", "0"]).is_err());
        assert!(run(&["--rate", "NaN"]).is_err());
        assert!(run(&["--rate", "fast"]).is_err());
        assert!(run(&["--worker-pid", "abc"]).is_err());
        assert!(run(&["--ingress-only=yes"]).is_err());
        assert!(run(&["--frobnicate"]).unwrap_err().contains("unknown"));
        assert!(run(&["--skip-baselines", "--baselines-only"]).is_err());
        assert!(run(&["--base-url", "localhost:8080"]).is_err());
        assert!(run(&["--ingress-only", "--accepted-file", "x"]).is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let a = args(&["--password", "hunter2"]);
        assert!(!format!("{a:?}").contains("hunter2"));
    }
}
