//! The recommendation package: one zip holding the 推荐汇总表 (Excel, a sheet per sub-project:
//! 序号, title, authors, unit, rank, score, link, the file's name in the package), the 推荐表
//! (Word, a page per work) and each work's metadata-free copy named `序号-作品名.扩展名`.
//!
//! Streamed: a blocking thread writes the zip entry by entry into a writer that hands 256 KiB
//! chunks over a channel of four, reading each stored file from the file store 1 MiB at a time,
//! so memory stays flat however large the package (measured by `benches/package.rs`). Only the
//! two office files are built whole, and they are small. Works the 公示 withdrew are left out.

use std::io::Write;

use bytes::Bytes;
use chrono::NaiveDate;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use crate::db::Db;
use crate::db::recommendation::{self as db, Recommended};
use crate::domain::ids::CampaignId;
use crate::domain::recommendation::package_file_name;
use crate::error::AppError;
use crate::office::forms::{self, Form};
use crate::office::sheet::{self, Cell, Column, Kind, Paper, Row, Sheet};
use crate::service::acting::{Acting, current_campaign};
use crate::service::papers::{Issuer, campaign_line};
use crate::store::FileStore;

/// Bytes handed over the channel at a time, and chunks read from the store.
const OUT_CHUNK: usize = 256 * 1024;
const READ_CHUNK: usize = 1024 * 1024;
/// Chunks waiting in the channel (memory in flight: 4 × 256 KiB).
const CHANNEL: usize = 4;

enum Source {
    Bytes(Vec<u8>),
    Stored { key: String, size: u64 },
}

struct Entry {
    path: String,
    source: Source,
}

/// What the package will hold, checked before the first byte is sent (a missing file is an
/// error now, not a broken download later).
pub struct Plan {
    /// `2020网聚-推荐材料-网络正能量微视频征集-20200930.zip`.
    pub name: String,
    /// `wangju-2020-recommendation-20200930.zip`.
    pub ascii_name: String,
    entries: Vec<Entry>,
    /// The date the entries carry (the package's day, noon).
    day: NaiveDate,
    /// Works and the bytes of their files.
    pub works: usize,
    pub file_bytes: u64,
}

impl Plan {
    /// The names of the entries, in order (for the command line's summary and tests).
    pub fn paths(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.path.as_str()).collect()
    }
}

fn extension(media_type: Option<&str>) -> &'static str {
    match media_type.unwrap_or_default() {
        "video/mp4" => "mp4",
        "audio/mp4" => "m4a",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "audio/mpeg" => "mp3",
        _ => "bin",
    }
}

fn authors(json: &str) -> String {
    serde_json::from_str::<Vec<String>>(json)
        .map(|v| v.join("、"))
        .unwrap_or_default()
}

/// File names keep only what every file system takes.
fn clean_name(s: &str) -> String {
    s.chars()
        .filter(|c| {
            !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') && !c.is_control()
        })
        .collect()
}

/// The plan for the city (the page's download).
pub async fn plan_for(
    db: &Db,
    store: &FileStore,
    acting: &Acting,
    code: &str,
    base_url: &str,
    today: NaiveDate,
) -> Result<Plan, AppError> {
    if acting.role != crate::domain::role::Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    plan(db, store, code, base_url, today).await
}

/// The package of sub-project `code` (`""`: every sub-project with a list), links on
/// `base_url`, dated `today`.
pub async fn plan(
    db: &Db,
    store: &FileStore,
    code: &str,
    base_url: &str,
    today: NaiveDate,
) -> Result<Plan, AppError> {
    let campaign = current_campaign(db).await?;
    let subs = &campaign.campaign.sub_projects;
    if !code.is_empty() && !subs.iter().any(|s| s.code == code) {
        return Err(AppError::invalid(
            "sub_project",
            format!("没有代码为“{code}”的子项目"),
        ));
    }
    let listed: Vec<Recommended> = db::list(db, CampaignId(campaign.id), code)
        .await?
        .into_iter()
        .filter(|r| r.withdrawn_reason.is_none())
        .collect();
    if listed.is_empty() {
        return Err(AppError::invalid(
            "sub_project",
            "推荐名单为空：请先在“推荐”页选出推荐作品",
        ));
    }
    let issuer = Issuer::city(db).await?;
    let line = campaign_line(campaign.campaign.year, &campaign.campaign.title);
    let sub_name = |c: &str| {
        subs.iter()
            .find(|s| s.code == c)
            .map_or_else(|| c.to_string(), |s| s.name.clone())
    };
    let final_round = |c: &str| {
        subs.iter()
            .find(|s| s.code == c)
            .and_then(|s| s.rounds.last())
            .map_or_else(|| "终评".to_string(), |r| r.name.clone())
    };
    let mut groups: Vec<(String, Vec<&Recommended>)> = Vec::new();
    for r in &listed {
        match groups.last_mut() {
            Some((c, v)) if *c == r.sub_project => v.push(r),
            _ => groups.push((r.sub_project.clone(), vec![r])),
        }
    }
    // Sub-projects in the campaign file's order.
    groups.sort_by_key(|(c, _)| subs.iter().position(|s| s.code == *c).unwrap_or(usize::MAX));
    let several = groups.len() > 1;
    let day = today.format("%Y%m%d");
    let label = if several || code.is_empty() && groups.len() != 1 {
        "全部子项目".to_string()
    } else {
        clean_name(&sub_name(&groups[0].0))
    };
    let name = format!("{}网聚-推荐材料-{label}-{day}.zip", campaign.campaign.year);
    let ascii_name = format!("wangju-{}-recommendation-{day}.zip", campaign.campaign.year);
    let root = name.trim_end_matches(".zip").to_string();

    let mut sheets = Vec::new();
    let mut forms_list = Vec::new();
    let mut files = Vec::new();
    let mut file_bytes = 0u64;
    for (c, works) in &groups {
        let sub = sub_name(c);
        let round = final_round(c);
        let folder = if several {
            format!("{root}/作品/{}/", clean_name(&sub))
        } else {
            format!("{root}/作品/")
        };
        let mut rows = Vec::new();
        for (i, w) in works.iter().enumerate() {
            let number = i + 1;
            let key = w.clean_key.clone().ok_or_else(|| {
                AppError::invalid(
                    "works",
                    format!("作品“{}”没有可用的文件，不能打包", w.title),
                )
            })?;
            let size = store.size(&key).await.map_err(|e| {
                if e.is_not_found() {
                    AppError::invalid(
                        "works",
                        format!("作品“{}”的文件在文件库中找不到，不能打包", w.title),
                    )
                } else {
                    AppError::Internal(e.into())
                }
            })?;
            file_bytes += size;
            let file = package_file_name(
                number,
                works.len(),
                &w.title,
                extension(w.media_type.as_deref()),
            );
            let link = format!("{base_url}/works/{}", w.work_id);
            let score = w.score_centi.map(|c| c as f64 / 100.0);
            let judging = match (w.rank, score) {
                (Some(rank), Some(s)) => format!("{round}第 {rank} 名，得分 {s:.2}"),
                _ => "未列入终评排名（推荐理由见下）".to_string(),
            };
            let reason = match (&w.reason, w.rank) {
                (Some(r), _) => r.clone(),
                (None, Some(rank)) => {
                    format!("经专家评审，在本市{round}中位列第 {rank} 名，予以推荐。")
                }
                (None, None) => String::new(),
            };
            rows.push(Row::data(vec![
                Cell::Int(number as i64),
                Cell::text(&w.title),
                Cell::text(authors(&w.authors)),
                Cell::text(&w.unit),
                w.rank.map_or(Cell::Empty, Cell::Int),
                score.map_or(Cell::Empty, Cell::Score),
                Cell::Link(link.clone()),
                Cell::text(&file),
                Cell::text(w.reason.clone().unwrap_or_default()),
            ]));
            forms_list.push(Form {
                number,
                sub_project: sub.clone(),
                title: w.title.clone(),
                authors: authors(&w.authors),
                phone: w.contact_phone.clone(),
                unit: w.unit.clone(),
                link,
                judging,
                description: w.description.clone(),
                reason,
            });
            files.push(Entry {
                path: format!("{folder}{file}"),
                source: Source::Stored { key, size },
            });
        }
        let sheet_name: String = clean_name(&sub)
            .chars()
            .filter(|c| !matches!(c, '[' | ']'))
            .take(31)
            .collect();
        sheets.push(Sheet {
            name: sheet_name,
            title: format!("优秀作品推荐汇总表（{sub}）"),
            columns: vec![
                Column::new("序号", Kind::Ordinal),
                Column::new("作品名称", Kind::Text),
                Column::new("作者", Kind::Text),
                Column::new("作者单位", Kind::Text),
                Column::new("评审名次", Kind::Ordinal),
                Column::new("得分", Kind::Ordinal),
                Column {
                    width: Some(34.0),
                    ..Column::new("作品链接", Kind::Text)
                },
                Column::new("文件名", Kind::Text),
                Column::new("推荐说明", Kind::Text),
            ],
            rows,
            total: false,
            notes: vec![format!(
                "说明：按{round}排名排列，得分为百分制（五位及以上专家评分时去掉一个最高分和一个最低分后取平均）；“推荐说明”为未按排名顺序推荐时的理由。作品文件为去除元数据后的版本，文件名与序号对应。"
            )],
        });
    }
    let paper = Paper {
        campaign: line.clone(),
        as_of: today,
        issuer: issuer.name.clone(),
    };
    let (xlsx, docx) = tokio::task::spawn_blocking(move || {
        let xlsx = sheet::write(&paper, &sheets)?;
        let docx = forms::recommendation_docx(
            &forms::Header {
                campaign: &line,
                issuer: &issuer.name,
            },
            &forms_list,
        )?;
        Ok::<_, String>((xlsx, docx))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let works = files.len();
    let mut entries = vec![
        Entry {
            path: format!("{root}/推荐汇总表.xlsx"),
            source: Source::Bytes(xlsx),
        },
        Entry {
            path: format!("{root}/推荐表.docx"),
            source: Source::Bytes(docx),
        },
    ];
    entries.extend(files);
    Ok(Plan {
        name,
        ascii_name,
        entries,
        day: today,
        works,
        file_bytes,
    })
}

/// Hands what the zip writer writes to the channel in [`OUT_CHUNK`] pieces.
struct ChannelWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<std::io::Result<Bytes>>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(OUT_CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "下载已中断"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = OUT_CHUNK - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= OUT_CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

fn write_zip(
    store: &FileStore,
    handle: &tokio::runtime::Handle,
    plan: Plan,
    out: ChannelWriter,
) -> std::io::Result<()> {
    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;
    let io = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    use chrono::Datelike;
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(plan.day.year()).unwrap_or(2020),
        plan.day.month() as u8,
        plan.day.day() as u8,
        12,
        0,
        0,
    )
    .unwrap_or_default();
    let mut zip = zip::ZipWriter::new_stream(out);
    for entry in plan.entries {
        let (method, large) = match &entry.source {
            // The summary sheet compresses; the .docx and the media files are compressed already.
            Source::Bytes(_) if entry.path.ends_with(".xlsx") => {
                (CompressionMethod::Deflated, false)
            }
            Source::Bytes(_) => (CompressionMethod::Stored, false),
            Source::Stored { size, .. } => {
                (CompressionMethod::Stored, *size >= u64::from(u32::MAX))
            }
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(large)
            .last_modified_time(stamp)
            .unix_permissions(0o644);
        zip.start_file(entry.path.as_str(), options).map_err(io)?;
        match entry.source {
            Source::Bytes(bytes) => zip.write_all(&bytes)?,
            Source::Stored { key, size } => {
                let mut stream = handle
                    .block_on(store.read_chunks(&key, size, READ_CHUNK))
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                let mut written = 0u64;
                while let Some(chunk) = handle.block_on(stream.next()) {
                    let chunk = chunk?;
                    written += chunk.len() as u64;
                    zip.write_all(&chunk)?;
                }
                if written != size {
                    return Err(std::io::Error::other(format!(
                        "文件 {key} 读出 {written} 字节，应为 {size} 字节"
                    )));
                }
            }
        }
    }
    let mut out = zip.finish().map_err(io)?;
    out.flush()
}

/// The zip as a stream of chunks; it is written while it is read (an error ends the stream
/// with that error, so the download breaks rather than looking complete).
pub fn stream(
    store: FileStore,
    plan: Plan,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let (tx, rx) = mpsc::channel(CHANNEL);
    let handle = tokio::runtime::Handle::current();
    let errors = tx.clone();
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter {
            buf: Vec::with_capacity(OUT_CHUNK),
            tx,
        };
        if let Err(e) = write_zip(&store, &handle, plan, out) {
            tracing::warn!(error = %e, "recommendation package not finished");
            let _ = errors.blocking_send(Err(e));
        }
    });
    tokio_stream_from(rx)
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<std::io::Result<Bytes>>,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Writes the package to `path` (the command line): into `path.part`, renamed when complete.
/// Returns the bytes written.
pub async fn write_file(
    store: FileStore,
    plan: Plan,
    path: &std::path::Path,
) -> Result<u64, AppError> {
    use tokio::io::AsyncWriteExt;
    let part = path.with_extension("zip.part");
    let mut file = tokio::fs::File::create(&part)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut body = std::pin::pin!(stream(store, plan));
    let mut total = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                drop(file);
                let _ = tokio::fs::remove_file(&part).await;
                return Err(AppError::Internal(e.into()));
            }
        };
        total += chunk.len() as u64;
        file.write_all(&chunk)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    file.sync_all()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    drop(file);
    tokio::fs::rename(&part, path)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(total)
}
