//! What the benchmarks share: starting `wangju` with only their own settings, pinning server
//! and load generator to separate CPUs, reading memory and CPU use from /proc, and printing
//! verdicts. Each bench is its own crate and uses part of this, hence the `dead_code` allowance.

#![allow(dead_code)]

pub mod inproc;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

/// `PASS` or `FAIL`.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

/// A positive number from the environment, or `default` (with a note when the value is bad).
pub fn env_number(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(v) => match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && n > 0.0 => n,
            _ => {
                eprintln!("ignoring {name}={v:?}: not a positive number");
                default
            }
        },
        Err(_) => default,
    }
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Pins this process (all its threads; call before starting any) to CPU 1. False when taskset
/// is missing or refused.
pub fn pin_self_to_cpu1() -> bool {
    Command::new("taskset")
        .args(["-a", "-p", "-c", "1", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("read the bound port").port()
}

/// `program`, pinned to CPU 0 with taskset when `pinned`.
pub fn pinned_command(program: &Path, pinned: bool) -> Command {
    if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// The `wangju` binary (pinned when asked) with only the bench's settings: no inherited
/// `WANGJU_*` variables (and the benches run it in an empty folder, so no ./wangju.toml).
pub fn wangju_command(bin: &Path, pinned: bool) -> Command {
    let mut command = pinned_command(bin, pinned);
    without_wangju_env(&mut command);
    command
}

/// Removes inherited `WANGJU_*` variables from `command`.
pub fn without_wangju_env(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("WANGJU_") {
            command.env_remove(key);
        }
    }
}

/// A field of /proc/PID/status in kB (e.g. `VmRSS:`).
pub fn status_kb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()
}

/// Resident memory of a process in MB.
pub fn rss_mb(pid: u32) -> Option<f64> {
    Some(status_kb(pid, "VmRSS:")? / 1024.0)
}

/// User plus system CPU seconds of a process, from its /proc stat file (USER_HZ = 100).
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime = fields.next()?.parse::<f64>().ok()?;
    let stime = fields.next()?.parse::<f64>().ok()?;
    Some((utime + stime) / 100.0)
}

/// Busy CPU seconds of the whole machine (all CPUs), from /proc/stat.
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse::<f64>().unwrap_or(0.0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let busy: f64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum();
    Some(busy / 100.0)
}

/// This process's resident memory in KiB.
pub fn own_rss_kb() -> u64 {
    status_kb(std::process::id(), "VmRSS:").unwrap_or(0.0) as u64
}

/// Samples this process's resident memory every 10 ms from `start` until `finish`, for the
/// streaming benches' "memory stays flat" figures.
pub struct RssSampler {
    baseline: u64,
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    pub fn start() -> RssSampler {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let baseline = own_rss_kb();
        let peak = std::sync::Arc::new(AtomicU64::new(baseline));
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(own_rss_kb(), Ordering::Relaxed);
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            })
        };
        RssSampler {
            baseline,
            peak,
            stop,
            thread,
        }
    }

    /// (resident KiB when sampling started, peak KiB while it ran).
    pub fn finish(self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        (self.baseline, self.peak.load(Ordering::Relaxed))
    }
}

/// Writes `bytes` of xorshift noise (incompressible, like video) to `path`, 1 MiB at a time.
pub fn noise_file(path: &Path, bytes: u64, seed: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut x = seed | 1;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = x.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        let n = left.min(buf.len() as u64) as usize;
        f.write_all(&buf[..n]).expect("write");
        left -= n as u64;
    }
    f.flush().expect("flush");
}
