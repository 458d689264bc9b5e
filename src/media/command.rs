//! `wangju media check`: probe files and hold them against a sub-project's rules from the
//! current campaign. Exit code 0 when every file is accepted, 1 when any is rejected, 2 when
//! the command cannot run (unknown sub-project, unreadable file).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use super::check::{Report, Verdict, check, check_group, duration_zh, ratio_zh, size_zh};
use super::{Probe, probe_path};
use crate::db::Db;
use crate::domain::campaign::Severity;

#[derive(Subcommand)]
pub enum MediaCommand {
    /// Check files against a sub-project's file rules (exit 0: all accepted, 1: any rejected).
    Check {
        /// Sub-project code, e.g. micro-video.
        #[arg(long = "rule", value_name = "CODE")]
        rule: String,
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Write a video's poster image: the first picture of an MP4's H.264 track as a JPEG (exit
    /// 0), or say why there is none (exit 1). The server runs this in a child process.
    Poster {
        #[arg(value_name = "VIDEO")]
        video: PathBuf,
        #[arg(value_name = "JPEG")]
        out: PathBuf,
    },
}

/// `wangju media poster VIDEO JPEG`: needs nothing but the two files.
pub fn poster(video: &std::path::Path, out: &std::path::Path) -> ExitCode {
    let written = super::poster::poster_jpeg(video)
        .map_err(|e| e.to_string())
        .and_then(|jpeg| {
            std::fs::write(out, jpeg).map_err(|e| format!("无法写入 {}：{e}", out.display()))
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("没有生成封面：{e}");
            ExitCode::from(1)
        }
    }
}

pub async fn run(db: &Db, command: MediaCommand) -> anyhow::Result<ExitCode> {
    let (rule, json, files) = match command {
        MediaCommand::Check { rule, json, files } => (rule, json, files),
        MediaCommand::Poster { video, out } => return Ok(poster(&video, &out)),
    };
    let Some(stored) = crate::db::campaigns::current(db).await? else {
        eprintln!("错误：数据库中还没有活动，请先导入活动文件。");
        return Ok(ExitCode::from(2));
    };
    let campaign = stored.campaign;
    let Some(sub) = campaign
        .sub_projects
        .iter()
        .find(|s| s.code == rule.trim())
        .cloned()
    else {
        let known: Vec<String> = campaign
            .sub_projects
            .iter()
            .map(|s| format!("{}（{}）", s.code, s.name))
            .collect();
        eprintln!(
            "错误：当前活动 {} 中没有代码为“{rule}”的子项目。已有的子项目：{}",
            campaign.code,
            known.join("、")
        );
        return Ok(ExitCode::from(2));
    };

    let mut rejected = 0usize;
    let mut unreadable = 0usize;
    for file in &files {
        let path = file.clone();
        // Probing is blocking file I/O and CPU work.
        let probed = tokio::task::spawn_blocking(move || probe_path(&path)).await?;
        let probe = match probed {
            Ok(p) => p,
            Err(e) => {
                eprintln!("错误：无法读取 {}：{e}", file.display());
                unreadable += 1;
                continue;
            }
        };
        let report = check(sub.media, &sub.rules, &probe);
        if report.verdict == Verdict::Rejected {
            rejected += 1;
        }
        let name = file.display().to_string();
        if json {
            println!("{}", file_json(&name, &probe, &report));
        } else {
            print_file(&name, &probe, &report);
        }
    }
    if let Some(group) = check_group(&sub.rules, files.len() - unreadable) {
        if group.verdict == Verdict::Rejected {
            rejected += 1;
        }
        if json {
            println!(
                "{}",
                json!({
                    "group": true,
                    "files": files.len() - unreadable,
                    "verdict": group.verdict,
                    "errors": group.errors,
                    "warnings": group.warnings,
                    "messages": group.messages(),
                    "findings": group.findings,
                })
            );
        } else {
            println!(
                "整组（{} 个文件）：{}",
                files.len() - unreadable,
                group.verdict.label_zh()
            );
            print_findings(&group);
        }
    }
    if !json {
        println!(
            "子项目 {}（{}）：共 {} 个文件，{} 个不通过{}。",
            sub.code,
            sub.name,
            files.len(),
            rejected,
            if unreadable > 0 {
                format!("，{unreadable} 个无法读取")
            } else {
                String::new()
            }
        );
    }
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The JSON line for one file.
pub fn file_json(name: &str, probe: &Probe, report: &Report) -> serde_json::Value {
    let video = probe.video.as_ref();
    let audio = probe.audio.as_ref();
    let level = audio.and_then(|a| a.level.as_ref());
    let (display_width, display_height) = probe.picture().unzip();
    json!({
        "file": name,
        "verdict": report.verdict,
        "errors": report.errors,
        "warnings": report.warnings,
        "format": probe.format,
        "size_bytes": probe.size_bytes,
        "duration_s": probe.duration_s,
        "display_width": display_width,
        "display_height": display_height,
        "coded_width": video.map(|v| v.coded_width),
        "coded_height": video.map(|v| v.coded_height),
        "rotation": video.map(|v| v.rotation),
        "pixel_aspect": video.and_then(|v| v.pixel_aspect),
        "video_codec": video.map(|v| v.codec.as_str()),
        "video_profile": video.and_then(|v| v.profile.as_deref()),
        "audio_codec": audio.map(|a| a.codec.as_str()),
        "audio_peak_dbfs": level.map(|l| l.peak_dbfs),
        "audio_rms_dbfs": level.map(|l| l.rms_dbfs),
        "subtitle_tracks": probe.subtitles,
        "text_chars": probe.text.map(|t| t.chars),
        "messages": report.messages(),
        "findings": report.findings,
        "notes": report.notes,
    })
}

fn print_file(name: &str, probe: &Probe, report: &Report) {
    println!("{name}：{}", report.verdict.label_zh());
    println!("  测得：{}", measured_zh(probe));
    print_findings(report);
}

fn print_findings(report: &Report) {
    for f in &report.findings {
        let tag = match f.severity {
            Severity::Error => "错误",
            Severity::Warning => "提醒",
        };
        println!("  {tag}［{}］{}", f.code, f.message);
    }
    for n in &report.notes {
        println!("  说明：{n}");
    }
}

/// One line of what the probe measured.
fn measured_zh(p: &Probe) -> String {
    let mut parts = vec![
        format!("格式 {}", p.format.label_zh()),
        format!("大小 {}", size_zh(p.size_bytes)),
    ];
    if let Some(d) = p.duration_s {
        parts.push(format!("时长 {}", duration_zh(d)));
    }
    if let Some((w, h)) = p.picture() {
        parts.push(format!("画面 {w}×{h}（{}）", ratio_zh(w, h)));
    }
    if let Some(v) = &p.video {
        parts.push(format!("视频编码 {}", v.codec));
    }
    match &p.audio {
        Some(a) => match &a.level {
            Some(l) => parts.push(format!(
                "音频编码 {}，峰值 {:.1} dBFS",
                a.codec, l.peak_dbfs
            )),
            None => parts.push(format!("音频编码 {}", a.codec)),
        },
        None if p.video.is_some() => parts.push("无音轨".to_string()),
        None => {}
    }
    if let Some(t) = p.text {
        parts.push(format!("{} 字", t.chars));
    }
    parts.join("，")
}
