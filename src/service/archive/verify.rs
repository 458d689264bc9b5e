//! `wangju campaign archive --verify FILE.zip`: checks an archive without the database — the
//! manifest against its own digest, every entry against the manifest (missing, extra, altered),
//! and the audit log's hash chain inside. Entries are hashed as they are read, so memory stays
//! flat however large the archive.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{FORMAT, ManifestEntry};

/// The manifest's largest size read (about 3 million entries).
const MAX_MANIFEST_BYTES: u64 = 512 * 1024 * 1024;
/// The longest audit entry line read.
const MAX_AUDIT_LINE: u64 = 16 * 1024 * 1024;
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Deserialize)]
struct Manifest {
    format: String,
    #[serde(default)]
    campaign: Value,
    #[serde(default)]
    audit: Option<AuditHead>,
    #[serde(default)]
    missing_files: Vec<String>,
    entries: Vec<ManifestEntry>,
}

#[derive(Deserialize, Clone)]
struct AuditHead {
    last_id: i64,
    last_hash: String,
}

/// What the check found: `lines` say what was checked, `problems` what is wrong (empty: the
/// archive is intact).
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub lines: Vec<String>,
    pub problems: Vec<String>,
    pub manifest_sha256: String,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the archive at `path` (blocking: run it off the async runtime).
pub fn verify(path: &Path) -> VerifyReport {
    let mut report = VerifyReport::default();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            report
                .problems
                .push(format!("无法打开 {}：{e}", path.display()));
            return report;
        }
    };
    let mut zip = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(z) => z,
        Err(e) => {
            report
                .problems
                .push(format!("{} 不是完整的 zip 文件：{e}", path.display()));
            return report;
        }
    };

    // The manifest and its digest.
    let manifest_bytes = match read_small(&mut zip, "manifest.json") {
        Ok(b) => b,
        Err(e) => {
            report.problems.push(e);
            return report;
        }
    };
    let digest = hex::encode(Sha256::digest(&manifest_bytes));
    report.manifest_sha256 = digest.clone();
    match read_small(&mut zip, "manifest.sha256") {
        Ok(b) => {
            let text = String::from_utf8_lossy(&b);
            let recorded = text.split_whitespace().next().unwrap_or_default();
            if recorded.eq_ignore_ascii_case(&digest) {
                report.lines.push(format!(
                    "清单摘要一致：manifest.json 的 SHA-256 为 {digest}"
                ));
            } else {
                report.problems.push(format!(
                    "清单被改动：manifest.json 的 SHA-256 是 {digest}，manifest.sha256 记的是 {recorded}"
                ));
            }
        }
        Err(e) => report.problems.push(e),
    }
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            report.problems.push(format!("manifest.json 无法读取：{e}"));
            return report;
        }
    };
    if manifest.format != FORMAT {
        report.problems.push(format!(
            "不认识的档案格式“{}”（应为 {FORMAT}）",
            manifest.format
        ));
    }
    if let Some(title) = manifest.campaign.get("title").and_then(Value::as_str) {
        report.lines.push(format!("档案：{title}"));
    }

    // Every entry against the manifest.
    let mut expected: BTreeMap<String, (u64, String, bool)> = manifest
        .entries
        .iter()
        .map(|e| (e.path.clone(), (e.size, e.sha256.clone(), false)))
        .collect();
    let mut checked = 0usize;
    let mut bytes = 0u64;
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                report
                    .problems
                    .push(format!("第 {} 个条目无法读取：{e}", i + 1));
                continue;
            }
        };
        let name = entry.name().to_string();
        if name == "manifest.json" || name == "manifest.sha256" || entry.is_dir() {
            continue;
        }
        let Some((size, sha, seen)) = expected.get_mut(&name) else {
            report
                .problems
                .push(format!("多出的文件：{name}（清单中没有）"));
            continue;
        };
        *seen = true;
        let (got_size, got_sha) = match hash_reader(&mut entry) {
            Ok(r) => r,
            Err(e) => {
                report.problems.push(format!("文件无法读取：{name}（{e}）"));
                continue;
            }
        };
        if got_size != *size || got_sha != *sha {
            report.problems.push(format!(
                "文件被改动：{name}（清单记 {size} 字节、SHA-256 {}…，实际 {got_size} 字节、{}…）",
                &sha.get(..12).unwrap_or(sha),
                &got_sha[..12]
            ));
        }
        checked += 1;
        bytes += got_size;
    }
    for (name, (_, _, seen)) in &expected {
        if !seen {
            report.problems.push(format!("缺少文件：{name}"));
        }
    }
    report.lines.push(format!(
        "清单 {} 个文件，核对 {checked} 个，共 {:.1} MB",
        manifest.entries.len(),
        bytes as f64 / 1_048_576.0
    ));
    if !manifest.missing_files.is_empty() {
        report.lines.push(format!(
            "归档时文件存储中已缺少 {} 个文件（清单 missing_files 列出，不算校验错误）",
            manifest.missing_files.len()
        ));
    }

    // The audit chain.
    match check_chain(&mut zip, manifest.audit.as_ref()) {
        Ok(n) => report.lines.push(format!("审计日志 {n} 条，哈希链完整")),
        Err(e) => report.problems.push(e),
    }
    report
}

fn read_small<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Vec<u8>, String> {
    let entry = zip
        .by_name(name)
        .map_err(|_| format!("缺少文件：{name}（不是 Wangju 活动档案，或已被删除）"))?;
    let mut out = Vec::new();
    entry
        .take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut out)
        .map_err(|e| format!("{name} 无法读取：{e}"))?;
    Ok(out)
}

fn hash_reader(r: &mut impl Read) -> std::io::Result<(u64, String)> {
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hash.update(&buf[..n]);
    }
    Ok((total, hex::encode(hash.finalize())))
}

/// The hash of one audit entry, as `db::audit` computes it: SHA-256 of the compact JSON array
/// of its fields.
fn entry_hash(e: &serde_json::Map<String, Value>) -> String {
    let field = |name: &str| e.get(name).cloned().unwrap_or(Value::Null);
    let canonical = Value::Array(vec![
        field("prev_hash"),
        field("id"),
        field("at"),
        field("actor_id"),
        field("actor_login"),
        field("ip"),
        field("action"),
        field("object_type"),
        field("object_id"),
        field("before_json"),
        field("after_json"),
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Walks `audit/audit_log.json` line by line. The number of entries, or where the chain breaks.
fn check_chain<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    head: Option<&AuditHead>,
) -> Result<i64, String> {
    let head_file: Option<AuditHead> = read_small(zip, "audit/head.json")
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let entry = zip
        .by_name("audit/audit_log.json")
        .map_err(|_| "缺少审计日志 audit/audit_log.json".to_string())?;
    let mut reader = BufReader::new(entry);
    let mut prev = GENESIS.to_string();
    let mut expected_id = 1i64;
    let mut line = String::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_AUDIT_LINE)
            .read_line(&mut line)
            .map_err(|e| format!("审计日志无法读取：{e}"))?;
        if n == 0 {
            break;
        }
        let text = line.trim().trim_end_matches(',');
        if text.is_empty() || text == "[" || text == "]" {
            continue;
        }
        let broken = |why: String| format!("审计日志哈希链断开：第 {expected_id} 条{why}");
        let value: Value =
            serde_json::from_str(text).map_err(|e| broken(format!("无法解析（{e}）")))?;
        let Some(e) = value.as_object() else {
            return Err(broken("不是一条记录".into()));
        };
        let id = e.get("id").and_then(Value::as_i64).unwrap_or(-1);
        if id != expected_id {
            return Err(broken(format!("缺失（下一条的编号是 {id}）")));
        }
        if e.get("prev_hash").and_then(Value::as_str) != Some(prev.as_str()) {
            return Err(broken("与上一条的链接不符".into()));
        }
        let hash = e
            .get("hash")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if entry_hash(e) != hash {
            return Err(broken("的内容被改动过".into()));
        }
        prev = hash;
        expected_id += 1;
    }
    let entries = expected_id - 1;
    for (what, head) in [("清单", head), ("audit/head.json", head_file.as_ref())] {
        let Some(head) = head else {
            return Err(format!("审计日志缺少链头：{what} 中没有 last_id/last_hash"));
        };
        if head.last_id != entries || head.last_hash != prev {
            return Err(format!(
                "审计日志哈希链断开：{what} 记到第 {} 条，日志中只有完整的 {entries} 条（末尾被删除或改动）",
                head.last_id
            ));
        }
    }
    Ok(entries)
}
