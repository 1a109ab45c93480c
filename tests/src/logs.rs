//! The log lines of this test process, captured as the processes wrote them (JSON), for tests
//! of what a log line carries.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// Where the captured lines go: one buffer for the whole process (the subscriber is global).
#[derive(Debug, Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

static CAPTURE: OnceLock<LogCapture> = OnceLock::new();

impl LogCapture {
    /// The process's capture.
    pub fn global() -> LogCapture {
        CAPTURE.get_or_init(LogCapture::default).clone()
    }

    /// Every line written so far, parsed (a line that is not JSON is a test failure).
    pub fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().expect("log buffer").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The value of `field` in the line's own fields or in any of its spans'.
pub fn field<'a>(line: &'a Value, field: &str) -> Option<&'a Value> {
    line.get(field).or_else(|| {
        line["spans"]
            .as_array()?
            .iter()
            .rev()
            .find_map(|span| span.get(field))
    })
}
