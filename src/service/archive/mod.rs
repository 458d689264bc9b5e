//! The campaign archive (归档): everything of a finished campaign in one zip for the union's
//! records, its verification, and closing a campaign once archived.
//!
//! What the zip holds (see `docs/operations.md`, 活动归档):
//! - `README.md`: what is in it, in Chinese, with the row and file counts;
//! - `campaign/campaign.toml`: the campaign file (`campaigns::export_toml`);
//! - `data/<table>.json`: every table of the campaign, one JSON object per row and per line
//!   (the table's own column names, personal data reduced as `redact` says);
//! - `excel/`: the 统计表 and 任务分配表 (`papers::workbook`), the activity list
//!   (`activity_export`), and `数据明细.xlsx` with one sheet per table, numbers as numbers;
//! - `audit/audit_log.json` and `audit/head.json`: the whole audit log with its hash chain, as
//!   stored, so it can be checked without Wangju;
//! - `files/works/…`: accepted works' clean copies; `files/photos/…`: activity photos;
//! - `manifest.json`: every entry with its size and SHA-256; `manifest.sha256`: the manifest's
//!   own SHA-256 in `sha256sum` format — the archive's digest, recorded when it is written and
//!   when the campaign is closed.
//!
//! Streamed: one blocking thread writes the zip and hashes each entry as it goes; the rows and
//! the stored files come to it in chunks over a channel of four, so memory stays flat however
//! large the campaign (measured in `docs/benchmarks.md`).

mod close;
mod verify;

pub use close::{Status, close, reopen, status};
pub use verify::{VerifyReport, verify};

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::db::Db;
use crate::db::archive::{self as db, JsonRow, TABLES};
use crate::db::audit::{self, Actor};
use crate::db::orgs::Scope;
use crate::domain::mask::{mask_email, mask_phone};
use crate::error::AppError;
use crate::service::papers::{self, Issuer, Which, campaign_line};
use crate::store::FileStore;

/// The archive format named in its manifest.
pub const FORMAT: &str = "wangju-campaign-archive/1";
/// Bytes handed to the zip writer at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks waiting for the zip writer.
const CHANNEL: usize = 4;
/// Rows of one sheet of `数据明细.xlsx` (Excel takes 1,048,576); the JSON file has them all.
const MAX_SHEET_ROWS: u64 = 1_000_000;
/// Longest text written into one Excel cell (Excel's limit is 32,767).
const MAX_CELL_CHARS: usize = 32_000;
/// Longest reason for reopening a closed campaign.
pub const MAX_REASON_CHARS: usize = 500;

/// Columns never archived: secrets, login state, network addresses and device fingerprints,
/// and the person keys that carry a phone number whole.
const DROPPED: &[&str] = &[
    "password_hash",
    "csrf_token",
    "token",
    "confirm_token",
    "person_key",
    "ip",
    "device",
    "receipt_hash",
    "failed_logins",
    "locked_until",
    "attempts_since",
];
/// Columns kept masked (`139****4997`): the record says who, not how to call them.
const PHONES: &[&str] = &["phone", "contact_phone"];

/// Applies the archive's personal-data rule to one row (not to the audit log, whose entries
/// are kept exactly as stored or its chain could not be checked).
fn redact(row: &mut JsonRow) {
    row.retain(|(name, _)| !DROPPED.contains(&name.as_str()));
    for (name, value) in row.iter_mut() {
        if let Value::String(s) = value {
            if PHONES.contains(&name.as_str()) {
                *s = mask_phone(s);
            } else if name == "email" {
                *s = mask_email(s);
            }
        }
    }
}

/// One row as a JSON object with its columns in the table's order.
fn encode(row: &JsonRow, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (name, value)) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Serialising a string or a JSON value to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, name);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, value);
    }
    out.push(b'}');
}

/// What the zip writer is told.
enum Msg {
    Start { path: String, deflate: bool },
    Data(Bytes),
    End,
    Finish(Box<Value>),
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

struct Finished {
    entries: usize,
    manifest_sha256: String,
}

/// The blocking side: writes the zip at `path`, hashing each entry's bytes as they pass.
fn write_zip(
    path: &Path,
    mut rx: mpsc::Receiver<Msg>,
    stamp: zip::DateTime,
) -> std::io::Result<Finished> {
    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;
    let io = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    let options = |deflate: bool| {
        SimpleFileOptions::default()
            .compression_method(if deflate {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            })
            .large_file(true)
            .last_modified_time(stamp)
            .unix_permissions(0o644)
    };
    let file = std::fs::File::create(path)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let mut entries: Vec<ManifestEntry> = Vec::new();
    let mut current: Option<(String, Sha256, u64)> = None;
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Start { path, deflate } => {
                zip.start_file(path.as_str(), options(deflate))
                    .map_err(io)?;
                current = Some((path, Sha256::new(), 0));
            }
            Msg::Data(bytes) => {
                let (_, hash, size) = current
                    .as_mut()
                    .ok_or_else(|| std::io::Error::other("data outside an entry"))?;
                hash.update(&bytes);
                *size += bytes.len() as u64;
                zip.write_all(&bytes)?;
            }
            Msg::End => {
                let (path, hash, size) = current
                    .take()
                    .ok_or_else(|| std::io::Error::other("end outside an entry"))?;
                entries.push(ManifestEntry {
                    path,
                    size,
                    sha256: hex::encode(hash.finalize()),
                });
            }
            Msg::Finish(mut manifest) => {
                let count = entries.len() + 2;
                manifest["entries"] =
                    serde_json::to_value(&entries).map_err(std::io::Error::other)?;
                let text = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
                let digest = hex::encode(Sha256::digest(&text));
                zip.start_file("manifest.json", options(true)).map_err(io)?;
                zip.write_all(&text)?;
                zip.start_file("manifest.sha256", options(false))
                    .map_err(io)?;
                zip.write_all(format!("{digest}  manifest.json\n").as_bytes())?;
                let out = zip.finish().map_err(io)?;
                let file = out.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                return Ok(Finished {
                    entries: count,
                    manifest_sha256: digest,
                });
            }
        }
    }
    Err(std::io::Error::other("归档没有写完就中断了"))
}

/// The async side's handle on the zip writer.
struct Sink {
    tx: mpsc::Sender<Msg>,
}

impl Sink {
    async fn send(&self, msg: Msg) -> Result<(), AppError> {
        self.tx
            .send(msg)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the archive writer stopped")))
    }

    async fn bytes(&self, path: &str, deflate: bool, bytes: Vec<u8>) -> Result<(), AppError> {
        self.send(Msg::Start {
            path: path.to_string(),
            deflate,
        })
        .await?;
        for chunk in bytes.chunks(CHUNK) {
            self.send(Msg::Data(Bytes::copy_from_slice(chunk))).await?;
        }
        self.send(Msg::End).await
    }

    /// A local file, read a chunk at a time.
    async fn file(&self, path: &str, from: &Path) -> Result<u64, AppError> {
        use tokio::io::AsyncReadExt;
        let mut f = tokio::fs::File::open(from)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        self.send(Msg::Start {
            path: path.to_string(),
            deflate: false,
        })
        .await?;
        let mut total = 0u64;
        loop {
            let mut buf = vec![0u8; CHUNK];
            let n = f
                .read(&mut buf)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            total += n as u64;
            self.send(Msg::Data(Bytes::from(buf))).await?;
        }
        self.send(Msg::End).await?;
        Ok(total)
    }

    /// A stored file, streamed from the store a chunk at a time.
    async fn stored(
        &self,
        store: &FileStore,
        path: &str,
        key: &str,
        size: u64,
    ) -> Result<(), AppError> {
        let mut stream = store
            .read_chunks(key, size, CHUNK)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        self.send(Msg::Start {
            path: path.to_string(),
            deflate: false,
        })
        .await?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| AppError::Internal(e.into()))?;
            written += chunk.len() as u64;
            self.send(Msg::Data(chunk)).await?;
        }
        if written != size {
            return Err(AppError::Internal(anyhow::anyhow!(
                "stored file {key}: read {written} bytes of {size}"
            )));
        }
        self.send(Msg::End).await
    }
}

/// What the data workbook's thread is told.
enum XMsg {
    Sheet {
        name: &'static str,
        title: String,
    },
    Header(Vec<String>),
    /// A batch of rows (sending rows one by one costs more than writing them).
    Rows(Vec<Vec<Value>>),
}

/// `数据明细.xlsx`: one sheet per table, written in constant memory (rows go to disk as they
/// come). Numbers are numbers, text is text (never a formula).
fn write_workbook(path: &Path, mut rx: mpsc::Receiver<XMsg>) -> Result<(), String> {
    use rust_xlsxwriter::{Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    // Columns holding a time (`*_at`, `at`): Unix seconds in the JSON, China time here.
    let mut times: Vec<bool> = Vec::new();
    let mut row: u32 = 0;
    let mut rows_in_sheet: u64 = 0;
    let mut has_sheet = false;
    let mut index = 0usize;
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            XMsg::Sheet { name, title } => {
                if has_sheet {
                    index += 1;
                }
                let sheet = book.add_worksheet_with_constant_memory();
                sheet.set_name(name).map_err(e)?;
                sheet.set_landscape().set_print_fit_to_pages(1, 0);
                sheet.set_freeze_panes(3, 0).map_err(e)?;
                sheet
                    .write_string_with_format(0, 0, &title, &bold)
                    .map_err(e)?;
                sheet
                    .write_string(
                        1,
                        0,
                        format!("完整数据见 data/{name}.json；本表最多 {MAX_SHEET_ROWS} 行。"),
                    )
                    .map_err(e)?;
                row = 3;
                rows_in_sheet = 0;
                has_sheet = true;
            }
            XMsg::Header(columns) => {
                times = columns
                    .iter()
                    .map(|c| c == "at" || c.ends_with("_at"))
                    .collect();
                let sheet = book.worksheet_from_index(index).map_err(e)?;
                for (c, name) in columns.iter().enumerate() {
                    let c = u16::try_from(c).map_err(|_| "too many columns".to_string())?;
                    sheet
                        .write_string_with_format(2, c, name, &bold)
                        .map_err(e)?;
                    let wide = times.get(usize::from(c)) == Some(&true);
                    sheet
                        .set_column_width(c, if wide { 20 } else { 14 })
                        .map_err(e)?;
                }
            }
            XMsg::Rows(batch) => {
                for values in batch {
                    if !has_sheet || rows_in_sheet >= MAX_SHEET_ROWS {
                        break;
                    }
                    let sheet = book.worksheet_from_index(index).map_err(e)?;
                    for (c, value) in values.iter().enumerate() {
                        let c = u16::try_from(c).map_err(|_| "too many columns".to_string())?;
                        match value {
                            Value::Null => {}
                            Value::Number(n) if times.get(usize::from(c)) == Some(&true) => {
                                let at = n.as_i64().unwrap_or_default() + 8 * 3600;
                                match rust_xlsxwriter::ExcelDateTime::from_timestamp(at) {
                                    Ok(dt) => {
                                        sheet
                                            .write_datetime_with_format(row, c, &dt, &when)
                                            .map_err(e)?;
                                    }
                                    Err(_) => {
                                        sheet.write_number(row, c, at as f64).map_err(e)?;
                                    }
                                }
                            }
                            Value::Number(n) => {
                                sheet
                                    .write_number(row, c, n.as_f64().unwrap_or_default())
                                    .map_err(e)?;
                            }
                            Value::String(s) => {
                                let s: String = s.chars().take(MAX_CELL_CHARS).collect();
                                sheet.write_string(row, c, s).map_err(e)?;
                            }
                            other => {
                                sheet.write_string(row, c, other.to_string()).map_err(e)?;
                            }
                        }
                    }
                    row += 1;
                    rows_in_sheet += 1;
                }
            }
        }
    }
    if !has_sheet {
        book.add_worksheet();
    }
    book.save(path).map_err(e)
}

/// What an archive run wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub path: PathBuf,
    pub entries: usize,
    pub bytes: u64,
    pub manifest_sha256: String,
    pub zip_sha256: String,
    /// Rows per table.
    pub rows: BTreeMap<&'static str, u64>,
    pub audit_entries: i64,
    pub work_files: usize,
    pub photo_files: usize,
    /// Files the database names that the store does not have.
    pub missing: Vec<String>,
}

fn clean_name(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|c| {
            !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') && !c.is_control()
        })
        .take(60)
        .collect();
    s.trim().to_string()
}

fn extension(media_type: Option<&str>) -> &'static str {
    match media_type.unwrap_or_default() {
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "audio/mp4" => "m4a",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "audio/mpeg" => "mp3",
        _ => "bin",
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

/// Writes the archive of campaign `code` (the current campaign) to `out`, streamed, records it
/// and audits it.
pub async fn write(
    db: &Db,
    store: &FileStore,
    code: &str,
    out: &Path,
    actor: &Actor,
    today: NaiveDate,
) -> Result<Written, AppError> {
    let stored = crate::db::campaigns::by_code(db, code)
        .await?
        .ok_or_else(|| AppError::invalid("code", format!("没有代码为“{code}”的活动")))?;
    if !stored.is_current {
        return Err(AppError::invalid(
            "code",
            format!("只能归档当前活动：“{code}”不是当前活动，请先把它设为当前活动再归档"),
        ));
    }
    let campaign_id = stored.id;
    let title = campaign_line(stored.campaign.year, &stored.campaign.title);
    let folder = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let scratch = tempfile::tempdir_in(folder).map_err(|e| AppError::Internal(e.into()))?;
    let part = out.with_extension("zip.part");

    use chrono::Datelike;
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(today.year()).unwrap_or(2020),
        today.month() as u8,
        today.day() as u8,
        12,
        0,
        0,
    )
    .unwrap_or_default();
    let (tx, rx) = mpsc::channel(CHANNEL);
    let zip_path = part.clone();
    let writer = tokio::task::spawn_blocking(move || write_zip(&zip_path, rx, stamp));
    let sink = Sink { tx };
    let produced = produce(
        db,
        store,
        &sink,
        campaign_id,
        code,
        &title,
        scratch.path(),
        actor,
        today,
    )
    .await;
    drop(sink);
    let finished = writer.await.map_err(internal);
    let (summary, finished) = match (produced, finished) {
        (Ok(s), Ok(Ok(f))) => (s, f),
        (Err(e), _) | (_, Err(e)) => {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
        (_, Ok(Err(e))) => {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(AppError::Internal(e.into()));
        }
    };
    let (bytes, zip_sha256) = hash_file(&part).await?;
    tokio::fs::rename(&part, out)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;

    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut dbtx = db.begin().await?;
    let archive_id = db::insert_archive(
        &mut dbtx,
        &db::NewArchive {
            campaign_id,
            written_by: &actor.login,
            file_name: &file_name,
            manifest_sha256: &finished.manifest_sha256,
            zip_sha256: &zip_sha256,
            entries: finished.entries as i64,
            bytes: bytes as i64,
            audit_last_id: summary.audit_last_id,
        },
    )
    .await?;
    audit::append(
        &mut dbtx,
        actor,
        audit::Event {
            action: "campaign.archive",
            object_type: "campaign",
            object_id: campaign_id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "archive_id": archive_id,
                "file_name": file_name,
                "manifest_sha256": finished.manifest_sha256,
                "zip_sha256": zip_sha256,
                "entries": finished.entries,
                "bytes": bytes,
            })),
        },
    )
    .await?;
    dbtx.commit().await?;
    Ok(Written {
        path: out.to_path_buf(),
        entries: finished.entries,
        bytes,
        manifest_sha256: finished.manifest_sha256,
        zip_sha256,
        rows: summary.rows,
        audit_entries: summary.audit_last_id,
        work_files: summary.work_files,
        photo_files: summary.photo_files,
        missing: summary.missing,
    })
}

async fn hash_file(path: &Path) -> Result<(u64, String), AppError> {
    use tokio::io::AsyncReadExt;
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hash.update(&buf[..n]);
    }
    Ok((total, hex::encode(hash.finalize())))
}

struct Summary {
    rows: BTreeMap<&'static str, u64>,
    audit_last_id: i64,
    work_files: usize,
    photo_files: usize,
    missing: Vec<String>,
}

/// Streams `rows` as `path` (a JSON array, one object per line). Each row goes through `each`.
async fn json_entry(
    sink: &Sink,
    path: &str,
    mut rows: futures_util::stream::BoxStream<'_, Result<JsonRow, sqlx::Error>>,
    mut each: impl FnMut(&mut JsonRow) -> Option<XMsg>,
    xlsx: Option<&mpsc::Sender<XMsg>>,
) -> Result<u64, AppError> {
    sink.send(Msg::Start {
        path: path.to_string(),
        deflate: true,
    })
    .await?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    buf.extend_from_slice(b"[");
    let mut count = 0u64;
    let mut batch: Vec<Vec<Value>> = Vec::new();
    while let Some(row) = rows.next().await {
        let mut row = row?;
        let header = each(&mut row);
        if let (Some(x), Some(h)) = (xlsx, header) {
            x.send(h).await.map_err(internal)?;
        }
        buf.extend_from_slice(if count == 0 { b"\n" } else { b",\n" });
        encode(&row, &mut buf);
        if let Some(x) = xlsx {
            batch.push(row.into_iter().map(|(_, v)| v).collect());
            if batch.len() >= 256 {
                x.send(XMsg::Rows(std::mem::take(&mut batch)))
                    .await
                    .map_err(internal)?;
            }
        }
        count += 1;
        if buf.len() >= CHUNK {
            sink.send(Msg::Data(Bytes::from(std::mem::take(&mut buf))))
                .await?;
            buf.reserve(CHUNK + 4096);
        }
    }
    if let (Some(x), false) = (xlsx, batch.is_empty()) {
        x.send(XMsg::Rows(batch)).await.map_err(internal)?;
    }
    buf.extend_from_slice(b"\n]\n");
    sink.send(Msg::Data(Bytes::from(buf))).await?;
    sink.send(Msg::End).await?;
    Ok(count)
}

#[expect(clippy::too_many_arguments)]
async fn produce(
    db: &Db,
    store: &FileStore,
    sink: &Sink,
    campaign_id: i64,
    code: &str,
    title: &str,
    scratch: &Path,
    actor: &Actor,
    today: NaiveDate,
) -> Result<Summary, AppError> {
    let toml = crate::service::campaigns::export_toml(db, Some(code)).await?;
    sink.bytes("campaign/campaign.toml", true, toml.into_bytes())
        .await?;

    // The tables, each into its JSON file and a sheet of the data workbook.
    let book_path = scratch.join("数据明细.xlsx");
    let (xtx, xrx) = mpsc::channel::<XMsg>(4);
    let book_out = book_path.clone();
    let book = tokio::task::spawn_blocking(move || write_workbook(&book_out, xrx));
    let mut rows = BTreeMap::new();
    for table in TABLES {
        xtx.send(XMsg::Sheet {
            name: table.name,
            title: format!("{title} · {}（{}）", table.label_zh, table.name),
        })
        .await
        .map_err(internal)?;
        let mut first = true;
        let n = json_entry(
            sink,
            &format!("data/{}.json", table.name),
            db::rows(db, table, campaign_id),
            |row| {
                redact(row);
                if std::mem::take(&mut first) {
                    Some(XMsg::Header(row.iter().map(|(n, _)| n.clone()).collect()))
                } else {
                    None
                }
            },
            Some(&xtx),
        )
        .await?;
        rows.insert(table.name, n);
    }
    drop(xtx);
    book.await.map_err(internal)?.map_err(internal)?;

    // The audit log, whole and as stored, up to the head read now.
    let (last_id, last_hash) = db::audit_head(db).await?;
    let dumped = json_entry(
        sink,
        "audit/audit_log.json",
        db::audit_rows(db, last_id),
        |_| None,
        None,
    )
    .await?;
    if i64::try_from(dumped).unwrap_or(i64::MAX) != last_id {
        return Err(internal(format!(
            "audit log: {dumped} entries read, the head says {last_id}"
        )));
    }
    let head = serde_json::json!({ "last_id": last_id, "last_hash": last_hash });
    sink.bytes(
        "audit/head.json",
        true,
        serde_json::to_vec_pretty(&head).map_err(internal)?,
    )
    .await?;

    // The papers the office hands upward, as the live pages export them.
    let progress = crate::service::progress::progress(db, &Scope::everything()).await?;
    let issuer = Issuer::city(db).await?;
    for (which, name) in [
        (Which::Statistics, "excel/统计表.xlsx"),
        (Which::Allocation, "excel/任务分配表.xlsx"),
    ] {
        let file = papers::workbook(db, &progress, which, &issuer, today).await?;
        sink.bytes(name, false, file.bytes).await?;
    }
    let activities_path = scratch.join("activities.xlsx");
    crate::service::activity_export::write_xlsx(
        db,
        &Scope::everything(),
        &Default::default(),
        None,
        &activities_path,
    )
    .await?;
    sink.file("excel/线下活动.xlsx", &activities_path).await?;
    sink.file("excel/数据明细.xlsx", &book_path).await?;

    // Accepted works' clean copies and the activity photos, from the store.
    let mut missing = Vec::new();
    let mut work_files = 0;
    for w in db::accepted_work_files(db, campaign_id).await? {
        let path = format!(
            "files/works/{}/{}-{}.{}",
            clean_name(&w.sub_project),
            w.id,
            clean_name(&w.title),
            extension(w.media_type.as_deref())
        );
        let Some(key) = w.clean_key else {
            missing.push(path);
            continue;
        };
        match store.size(&key).await {
            Ok(size) => {
                sink.stored(store, &path, &key, size).await?;
                work_files += 1;
            }
            Err(e) if e.is_not_found() => missing.push(path),
            Err(e) => return Err(AppError::Internal(e.into())),
        }
    }
    let mut photo_files = 0;
    for (photo_id, activity_id, key) in db::photo_files(db, campaign_id).await? {
        let path = format!("files/photos/{activity_id}/{photo_id}.jpg");
        match store.size(&key).await {
            Ok(size) => {
                sink.stored(store, &path, &key, size).await?;
                photo_files += 1;
            }
            Err(e) if e.is_not_found() => missing.push(path),
            Err(e) => return Err(AppError::Internal(e.into())),
        }
    }

    let readme = readme(
        title,
        code,
        today,
        actor,
        &rows,
        last_id,
        work_files,
        photo_files,
        &missing,
    );
    sink.bytes("README.md", true, readme.into_bytes()).await?;

    let manifest = serde_json::json!({
        "format": FORMAT,
        "campaign": { "code": code, "title": title },
        "written_on": today.to_string(),
        "written_by": actor.login,
        "audit": { "last_id": last_id, "last_hash": last_hash },
        "rows": rows,
        "missing_files": missing,
        "entries": [],
    });
    sink.send(Msg::Finish(Box::new(manifest))).await?;
    Ok(Summary {
        rows,
        audit_last_id: last_id,
        work_files,
        photo_files,
        missing,
    })
}

#[expect(clippy::too_many_arguments)]
fn readme(
    title: &str,
    code: &str,
    today: NaiveDate,
    actor: &Actor,
    rows: &BTreeMap<&'static str, u64>,
    audit_entries: i64,
    work_files: usize,
    photo_files: usize,
    missing: &[String],
) -> String {
    let mut s = format!(
        "# {title} 归档\n\n活动代码：{code}\n归档日期：{today}\n归档人：{}\n格式：{FORMAT}\n\n",
        actor.login
    );
    s.push_str(
        "本压缩包是本次活动的档案，供工会存档备查。内容如下：\n\n\
         - `README.md`：本说明。\n\
         - `manifest.json`：清单，列出每个文件的路径、字节数和 SHA-256。\n\
         - `manifest.sha256`：清单本身的 SHA-256（`sha256sum -c manifest.sha256` 可核对），即本档案的摘要。\n\
         - `campaign/campaign.toml`：活动文件（子项目、阶段、任务数等），可重新导入 Wangju。\n\
         - `data/表名.json`：各数据表，每行一个 JSON 对象，字段名即数据库列名（见 docs/operations.md）。\n\
         - `excel/统计表.xlsx`、`excel/任务分配表.xlsx`：与系统导出的一致；`excel/线下活动.xlsx`：活动清单；\
         `excel/数据明细.xlsx`：每张数据表一页，数字为数值格式。\n\
         - `audit/audit_log.json`：完整审计日志及其哈希链；`audit/head.json`：链头（最后一条的编号和哈希）。\n\
         - `files/works/子项目/编号-作品名.扩展名`：审核通过作品的净化副本（已去除元数据）。\n\
         - `files/photos/活动编号/照片编号.jpg`：活动照片（重新编码、无定位信息的副本）。\n\n",
    );
    s.push_str("## 数据表行数\n\n| 文件 | 行数 |\n|---|---|\n");
    for (name, n) in rows {
        s.push_str(&format!("| data/{name}.json | {n} |\n"));
    }
    s.push_str(&format!(
        "\n审计日志 {audit_entries} 条；作品文件 {work_files} 个；活动照片 {photo_files} 张。\n"
    ));
    if !missing.is_empty() {
        s.push_str(&format!(
            "\n**文件存储中缺少以下 {} 个文件，未能归档**（清单 missing_files 中也列出）：\n\n",
            missing.len()
        ));
        for m in missing {
            s.push_str(&format!("- {m}\n"));
        }
    }
    s.push_str(
        "\n## 个人信息\n\n\
         档案只保留存档所需的个人信息：姓名、单位照常保留；手机号一律脱敏（如 139****4997），\
         电子邮箱只留首字母和域名；密码哈希、登录令牌、签到二维码令牌、IP 地址、设备标识和含手机号的去重键不归档。\
         审计日志按原样保留（否则无法校验哈希链），其中含操作人的登录名和 IP。\n\n\
         ## 如何核对\n\n\
         1. 用 Wangju：`wangju campaign archive --verify 本文件.zip`。\n\
         2. 不用 Wangju：`sha256sum manifest.json` 应与 `manifest.sha256` 一致；逐个文件计算 SHA-256，应与清单一致，\
         且压缩包里没有清单以外的文件。\n\
         3. 审计链：第 1 条的 prev_hash 为 64 个 0；每条的 hash = SHA-256(紧凑 JSON 数组 \
         [prev_hash, id, at, actor_id, actor_login, ip, action, object_type, object_id, before_json, after_json])，\
         JSON 不转义中文、不加空格（Python：`json.dumps(数组, ensure_ascii=False, separators=(',', ':'))`）；\
         每条的 prev_hash 等于上一条的 hash，编号从 1 连续；最后一条与 audit/head.json 一致。\n",
    );
    s
}
