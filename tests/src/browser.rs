//! A real headless Chromium driven over WebDriver (fantoccini + Debian's chromedriver): each
//! browser has its own chromedriver on a free port and its own profile directory, so browser
//! tests run in parallel, and with no host name resolving, so a page that reaches for another
//! host fails its test. `scripts/test.sh` installs both programs when missing.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a page may take to show what a test waits for.
pub const PAGE_WAIT: Duration = Duration::from_secs(20);

fn program(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A headless Chromium session; its chromedriver dies with it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a 1400×1000 headless Chromium.
    pub async fn launch() -> Browser {
        let driver_path = program("BW_TEST_CHROMEDRIVER", "chromedriver");
        // chromedriver needs the browser as a path, not a name to look up.
        let chromium = program("BW_TEST_CHROMIUM", "/usr/bin/chromium");
        let mut driver = Command::new(&driver_path)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e} (scripts/test.sh installs Debian's chromium and \
                     chromium-driver; or set BW_TEST_CHROMEDRIVER)",
                    driver_path.display()
                )
            });
        let port = driver_port(&mut driver).await;
        let profile = tempfile::tempdir().expect("profile dir");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                // No name resolves: a page works offline or its test fails, whatever
                // network the machine has (only the ingress, on 127.0.0.1, is reached).
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-dev-shm-usage",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.path().display())],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("WebDriver session");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// The element once it is in the page (panics after [`PAGE_WAIT`]).
    pub async fn element(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PAGE_WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} in the page: {e}"))
    }

    /// Waits until the element's text satisfies `condition`, and returns the text.
    pub async fn text_until(&self, css: &str, condition: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let found = poll(async || {
            let text = self
                .client
                .find(Locator::Css(css))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            let shown = condition(&text).then(|| text.clone());
            last = text;
            shown
        })
        .await;
        found.unwrap_or_else(|| panic!("{css} never showed what was expected; last text: {last:?}"))
    }

    /// Waits until no element matches `css`.
    pub async fn gone(&self, css: &str) {
        poll(
            async || match self.client.find_all(Locator::Css(css)).await {
                Ok(found) if found.is_empty() => Some(()),
                _ => None,
            },
        )
        .await
        .unwrap_or_else(|| panic!("{css} is still in the page"));
    }

    /// Every resource the page has loaded so far (its scripts, styles, images, fetches), by URL.
    pub async fn loaded_resources(&self) -> Vec<String> {
        let loaded = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await
            .expect("resource timing");
        serde_json::from_value(loaded).expect("a list of URLs")
    }

    /// Ends the session and its driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

/// Polls `check` every 100 ms until it answers, for at most [`PAGE_WAIT`].
async fn poll<T>(mut check: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let deadline = tokio::time::Instant::now() + PAGE_WAIT;
    while tokio::time::Instant::now() < deadline {
        if let Some(answer) = check().await {
            return Some(answer);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// chromedriver prints the port it chose for `--port=0`; its output is drained afterwards so
/// that it never blocks on (or dies of) a full or closed pipe.
async fn driver_port(driver: &mut Child) -> u16 {
    let stdout = driver.stdout.take().expect("piped stdout");
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut tx = Some(tx);
        while let Ok(Some(line)) = lines.next_line().await {
            let port = line
                .split("started successfully on port ")
                .nth(1)
                .and_then(|rest| rest.trim_end_matches('.').trim().parse::<u16>().ok());
            if let Some(port) = port
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(port);
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(20), rx)
        .await
        .expect("chromedriver did not start within 20 s")
        .expect("chromedriver exited before saying its port")
}
