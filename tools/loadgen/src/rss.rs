//! Resident memory of the ingress and worker processes, sampled from `/proc/<pid>/status`,
//! and the loadgen's own CPU time (it shares the cores with what it measures).

use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Sampling period: fine enough to catch a burst, cheap enough to ignore.
const PERIOD: Duration = Duration::from_millis(200);

/// A process to watch.
#[derive(Debug, Clone)]
pub struct Watched {
    /// `ingress` or `worker`.
    pub role: &'static str,
    /// Its process id.
    pub pid: u32,
}

/// Memory figures of one process over the run.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryReport {
    /// `ingress` or `worker`.
    pub role: &'static str,
    /// Its process id.
    pub pid: u32,
    /// Largest `VmRSS` sampled, KiB (None when never readable).
    pub peak_rss_kib: Option<u64>,
    /// `VmHWM` (kernel's peak RSS over the process life) at the end, KiB.
    pub hwm_kib: Option<u64>,
    /// Successful samples.
    pub samples: u64,
}

/// A running sampler; call `finish` to stop it and get the figures.
pub struct Sampler {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Vec<MemoryReport>>,
}

/// Extracts a `Key:   12345 kB` field of `/proc/<pid>/status`, in KiB.
pub fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Linux reports `/proc/<pid>/stat` times in USER_HZ ticks, fixed at 100 for user space.
const USER_HZ: f64 = 100.0;

/// User + system CPU seconds from the text of `/proc/<pid>/stat` (fields 14 and 15).
pub fn parse_stat_cpu_secs(stat: &str) -> Option<f64> {
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name come field 3 (state) … ; utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

/// CPU seconds this process has used so far, if /proc is available.
pub fn self_cpu_secs() -> Option<f64> {
    parse_stat_cpu_secs(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// Reads the status file; `None` when /proc is missing or the process is gone (skipped quietly).
fn read_status(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status")).ok()
}

/// Starts sampling `VmRSS` of every watched process every 200 ms.
pub fn start(watched: Vec<Watched>) -> Sampler {
    let (stop, mut stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut reports: Vec<MemoryReport> = watched
            .iter()
            .map(|w| MemoryReport {
                role: w.role,
                pid: w.pid,
                peak_rss_kib: None,
                hwm_kib: None,
                samples: 0,
            })
            .collect();
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tick.tick() => {
                    for r in &mut reports {
                        if let Some(kib) = read_status(r.pid).and_then(|s| parse_status_kib(&s, "VmRSS")) {
                            r.peak_rss_kib = Some(r.peak_rss_kib.map_or(kib, |p| p.max(kib)));
                            r.samples += 1;
                        }
                    }
                }
            }
        }
        for r in &mut reports {
            if let Some(status) = read_status(r.pid) {
                r.hwm_kib = parse_status_kib(&status, "VmHWM");
                if let Some(kib) = parse_status_kib(&status, "VmRSS") {
                    r.peak_rss_kib = Some(r.peak_rss_kib.map_or(kib, |p| p.max(kib)));
                }
            }
        }
        reports
    });
    Sampler { stop, task }
}

impl Sampler {
    /// Stops sampling and returns the figures (empty if the task failed).
    pub async fn finish(self) -> Vec<MemoryReport> {
        // The task may have ended already; then there is nobody to stop.
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tingress\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   48000 kB\nThreads:\t3\n";

    #[test]
    fn parses_fields() {
        assert_eq!(parse_status_kib(STATUS, "VmRSS"), Some(48_000));
        assert_eq!(parse_status_kib(STATUS, "VmHWM"), Some(51_234));
        assert_eq!(parse_status_kib(STATUS, "VmSwap"), None);
        // A key that is a prefix of another must not match it.
        assert_eq!(parse_status_kib("VmRSSX:\t1 kB\n", "VmRSS"), None);
    }

    #[test]
    fn parses_cpu_ticks_even_with_odd_names() {
        let stat = "42 (we (ird) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_stat_cpu_secs(stat), Some(3.0));
        assert_eq!(parse_stat_cpu_secs("garbage"), None);
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(self_cpu_secs().is_some());
        }
    }

    #[tokio::test]
    async fn samples_this_process_when_proc_exists() {
        let sampler = start(vec![Watched {
            role: "ingress",
            pid: std::process::id(),
        }]);
        tokio::time::sleep(Duration::from_millis(250)).await;
        let reports = sampler.finish().await;
        assert_eq!(reports.len(), 1);
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(reports[0].peak_rss_kib.is_some_and(|k| k > 0));
            assert!(reports[0].hwm_kib.is_some());
        }
    }
}
