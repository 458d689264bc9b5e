//! `wangju backup --out DIR` and `wangju restore DIR`: a consistent online backup while nodes
//! keep serving, and bringing it back into a new data folder or an empty database.
//!
//! A backup folder holds `manifest.json` (when, what, the row counts at the backup point), the
//! database (`wangju.db`, a SQLite snapshot by `VACUUM INTO`; or `wangju.pgdump`, PostgreSQL's
//! `pg_dump --format=custom` of one exported snapshot) and, for a local file store, `files/`.
//! Files are copied after the database snapshot: objects are written before any row names them
//! and never changed, so every file the snapshot names is there. An S3 store is not copied:
//! its bucket's versioning and replication are its backup (docs/operations.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::config::Settings;
use crate::db::backup::{self, Counts};
use crate::db::{Backend, Db};
use crate::store::FileStore;

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "wangju.db";
const PG_FILE: &str = "wangju.pgdump";
const FILES: &str = "files";

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    wangju_version: String,
    /// UTC, RFC 3339.
    created_at: String,
    /// `sqlite` or `postgres`.
    database: String,
    database_file: String,
    counts: Counts,
    /// `local` (copied into `files/`) or `s3` (not copied).
    store: String,
    files: u64,
    file_bytes: u64,
}

/// Takes a backup into `out` (a new or empty folder).
pub(super) async fn backup(db: &Db, settings: &Settings, out: &Path) -> anyhow::Result<()> {
    prepare_out(out)?;
    let started = std::time::Instant::now();
    let (database_file, counts) = match db.backend() {
        Backend::Sqlite => {
            let url = settings.database_url();
            let source = url.strip_prefix("sqlite://").unwrap_or(&url);
            let counts = backup::sqlite_copy(Path::new(source), &out.join(SQLITE_FILE)).await?;
            (SQLITE_FILE, counts)
        }
        Backend::Postgres => {
            let snapshot = backup::pg_snapshot(db).await?;
            let (url, password) = split_password(&settings.database_url());
            let mut dump = tokio::process::Command::new("pg_dump");
            dump.args(["--format=custom", "--no-owner", "--no-privileges"])
                .arg(format!("--snapshot={}", snapshot.id))
                .arg(format!("--file={}", out.join(PG_FILE).display()))
                .arg(format!("--dbname={url}"));
            if let Some(p) = password {
                dump.env("PGPASSWORD", p);
            }
            let status = dump
                .status()
                .await
                .context("无法运行 pg_dump：请安装与数据库同版本的 postgresql-client")?;
            if !status.success() {
                anyhow::bail!("pg_dump 未成功（{status}），备份不完整，请查看上面的错误");
            }
            (PG_FILE, snapshot.counts)
        }
    };
    let store = FileStore::from_settings(settings)?;
    let (store_kind, files, file_bytes) = match store.local_root() {
        Some(root) => {
            let (root, target) = (root.to_path_buf(), out.join(FILES));
            let (n, bytes) = tokio::task::spawn_blocking(move || copy_tree(&root, &target))
                .await?
                .context("复制文件存储失败")?;
            ("local", n, bytes)
        }
        None => ("s3", 0, 0),
    };
    let manifest = Manifest {
        format: 1,
        wangju_version: env!("CARGO_PKG_VERSION").into(),
        created_at: chrono::Utc::now().to_rfc3339(),
        database: match db.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .into(),
        database_file: database_file.into(),
        counts,
        store: store_kind.into(),
        files,
        file_bytes,
    };
    write_synced(
        &out.join(MANIFEST),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    println!(
        "备份完成：{}（{:.1} 秒）\n  数据库：{}，活动 {} 条，签到 {} 条，作品 {} 件，审计日志 {} 条\n  文件：{}",
        out.display(),
        started.elapsed().as_secs_f64(),
        database_file,
        manifest.counts.activities,
        manifest.counts.checkins,
        manifest.counts.works,
        manifest.counts.audit_entries,
        if store_kind == "local" {
            format!("{files} 个，共 {file_bytes} 字节")
        } else {
            "S3 存储未复制（请用存储桶的版本控制与跨区域复制，见 docs/operations.md）".into()
        }
    );
    Ok(())
}

/// Restores the backup in `dir` into the data folder (or empty database) of `settings`, then
/// checks it: the counts against the manifest and the audit chain. Exit code 2 when a check
/// fails.
pub(super) async fn restore(settings: &Settings, dir: &Path) -> anyhow::Result<ExitCode> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(dir.join(MANIFEST))
            .with_context(|| format!("{} 不是网聚备份：缺少 {MANIFEST}", dir.display()))?,
    )
    .context("manifest.json 无法读取")?;
    let url = settings.database_url();
    match (manifest.database.as_str(), url.strip_prefix("sqlite://")) {
        ("sqlite", Some(path)) => {
            let target = PathBuf::from(path);
            if target.exists() {
                anyhow::bail!(
                    "{} 已有数据库：请恢复到新的数据目录（--data-dir）",
                    target.display()
                );
            }
            let source = dir.join(SQLITE_FILE);
            backup::sqlite_check(&source).await?;
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let partial = target.with_extension("db.restoring");
            std::fs::copy(&source, &partial)?;
            std::fs::File::open(&partial)?.sync_all()?;
            std::fs::rename(&partial, &target)?;
            if let Some(parent) = target.parent() {
                std::fs::File::open(parent)?.sync_all()?;
            }
        }
        ("postgres", None) => {
            let db = Db::connect(&url, 2).await?;
            if backup::has_schema(&db).await? {
                anyhow::bail!("目标数据库不是空的：请恢复到新建的空数据库");
            }
            db.close().await;
            let (url, password) = split_password(&url);
            let mut pg_restore = tokio::process::Command::new("pg_restore");
            pg_restore
                .args([
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                ])
                .arg(format!("--dbname={url}"))
                .arg(dir.join(PG_FILE));
            if let Some(p) = password {
                pg_restore.env("PGPASSWORD", p);
            }
            let status = pg_restore
                .status()
                .await
                .context("无法运行 pg_restore：请安装与数据库同版本的 postgresql-client")?;
            if !status.success() {
                anyhow::bail!("pg_restore 未成功（{status}），目标数据库未作改动");
            }
        }
        (kind, _) => anyhow::bail!(
            "备份的数据库是 {kind}，目标是 {}：须恢复到同一种数据库",
            if url.starts_with("sqlite://") {
                "sqlite"
            } else {
                "postgres"
            }
        ),
    }
    if manifest.store == "local" {
        let store = FileStore::from_settings(settings)?;
        if let Some(root) = store.local_root() {
            let (from, to) = (dir.join(FILES), root.to_path_buf());
            if from.exists() {
                tokio::task::spawn_blocking(move || copy_tree(&from, &to))
                    .await?
                    .context("复制文件失败")?;
            }
        }
    }
    // Opens it as a node would (migrating a backup of an older version), then checks it.
    let (state, _) = App::build(settings.clone()).await?;
    let now = backup::counts(&state.db).await?;
    let verdict = crate::db::audit::verify(&state.db).await?;
    let counts_ok = now == manifest.counts || now.schema_version != manifest.counts.schema_version;
    println!(
        "已恢复 {}（备份于 {}）：活动 {} 条，签到 {} 条，作品 {} 件，审计日志 {} 条{}",
        dir.display(),
        manifest.created_at,
        now.activities,
        now.checkins,
        now.works,
        now.audit_entries,
        if counts_ok {
            "，与备份清单一致"
        } else {
            "，与备份清单不一致！"
        }
    );
    let audit_ok = matches!(verdict, crate::db::audit::Verdict::Intact { .. });
    match &verdict {
        crate::db::audit::Verdict::Intact { entries } => {
            println!("审计日志完整：共 {entries} 条，哈希链校验通过。")
        }
        crate::db::audit::Verdict::Broken { at_id, reason } => {
            eprintln!("审计日志校验未通过：{reason}（自第 {at_id} 条起）")
        }
    }
    state.db.close().await;
    Ok(if counts_ok && audit_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The backup folder must be new or empty: a backup never mixes with an older one.
fn prepare_out(out: &Path) -> anyhow::Result<()> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        anyhow::bail!("{} 不是空目录：请给每次备份一个新目录", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("无法创建 {}", out.display()))
}

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `secret`, decoded): the
/// password goes to `pg_dump` through its environment, never on a command line others see.
fn split_password(url: &str) -> (String, Option<String>) {
    if let (Some(scheme), Some(at)) = (url.find("://"), url.rfind('@'))
        && at > scheme
        && let Some((user, password)) = url[scheme + 3..at].split_once(':')
    {
        let decoded = percent_encoding::percent_decode_str(password)
            .decode_utf8_lossy()
            .into_owned();
        return (
            format!("{}{user}{}", &url[..scheme + 3], &url[at..]),
            Some(decoded),
        );
    }
    (url.to_string(), None)
}

/// Copies every file under `from` to the same place under `to`, each synced. Returns the
/// number of files and bytes. The store's start-up probes are skipped.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(".wangju-check-") {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            let (n, b) = copy_tree(&entry.path(), &to.join(&name))?;
            files += n;
            bytes += b;
        } else if kind.is_file() {
            bytes += std::fs::copy(entry.path(), to.join(&name))?;
            std::fs::File::open(to.join(&name))?.sync_all()?;
            files += 1;
        }
    }
    std::fs::File::open(to)?.sync_all()?;
    Ok((files, bytes))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://wangju:s%40cret@db:5432/wangju"),
            (
                "postgres://wangju@db:5432/wangju".to_string(),
                Some("s@cret".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1/x"),
            ("postgres://postgres@127.0.0.1/x".to_string(), None)
        );
    }
}
