//! File rules as structured data, as a campaign file states them (`[[sub_projects.rules]]`)
//! and as the check holds a probe against them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Video,
    Photo,
    Audio,
    Text,
    /// A case, a platform, an account: described and linked rather than uploaded.
    Record,
}

impl MediaKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            MediaKind::Video => "视频",
            MediaKind::Photo => "图片",
            MediaKind::Audio => "音频",
            MediaKind::Text => "文字",
            MediaKind::Record => "事例或平台介绍",
        }
    }
}

/// Whether a broken rule blocks the submission or only flags it for the moderator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// A file rule as structured data. Each names what it checks, a limit, and how serious a
/// violation is; `text` is the notice's own wording shown beside the generated explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case", deny_unknown_fields)]
pub enum FileRule {
    /// Container or file format, judged from the content, never from the name.
    Format {
        allowed: Vec<String>,
        severity: Severity,
    },
    MaxSize {
        megabytes: u32,
        severity: Severity,
    },
    MaxDuration {
        seconds: u32,
        severity: Severity,
    },
    /// Displayed aspect ratio (after rotation and pixel aspect), with a tolerance in percent.
    AspectRatio {
        width: u32,
        height: u32,
        tolerance_percent: f64,
        severity: Severity,
    },
    /// "Clear picture": displayed resolution at least this.
    MinResolution {
        width: u32,
        height: u32,
        severity: Severity,
    },
    /// "Clear sound": an audio track must exist.
    AudioTrack {
        severity: Severity,
    },
    /// An audio track that is silent throughout.
    AudibleAudio {
        severity: Severity,
    },
    /// Codecs browsers may not play.
    BrowserPlayable {
        severity: Severity,
    },
    /// "Subtitles for key content": declared by the author, checked by the moderator.
    SubtitlesDeclared {
        severity: Severity,
    },
    /// Photos: the long edge at least this many pixels.
    MinLongEdge {
        pixels: u32,
        severity: Severity,
    },
    /// A group of at least this many images.
    MinFiles {
        count: u32,
        severity: Severity,
    },
    /// Text length in characters.
    TextLength {
        min_chars: u32,
        max_chars: u32,
        severity: Severity,
    },
}

impl FileRule {
    pub fn severity(&self) -> Severity {
        match self {
            FileRule::Format { severity, .. }
            | FileRule::MaxSize { severity, .. }
            | FileRule::MaxDuration { severity, .. }
            | FileRule::AspectRatio { severity, .. }
            | FileRule::MinResolution { severity, .. }
            | FileRule::AudioTrack { severity }
            | FileRule::AudibleAudio { severity }
            | FileRule::BrowserPlayable { severity }
            | FileRule::SubtitlesDeclared { severity }
            | FileRule::MinLongEdge { severity, .. }
            | FileRule::MinFiles { severity, .. }
            | FileRule::TextLength { severity, .. } => *severity,
        }
    }

    /// The rule in plain Chinese, as shown to workers.
    pub fn describe_zh(&self) -> String {
        match self {
            FileRule::Format { allowed, .. } => {
                format!("文件格式为 {}", allowed.join("、").to_uppercase())
            }
            FileRule::MaxSize { megabytes, .. } => format!("文件小于 {megabytes} MB"),
            FileRule::MaxDuration { seconds, .. } => {
                format!("时长小于 {}", duration_zh(*seconds))
            }
            FileRule::AspectRatio { width, height, .. } => {
                format!("画面比例为 {width}:{height}（横屏）")
            }
            FileRule::MinResolution { width, height, .. } => {
                format!("画面清晰，分辨率不低于 {width}×{height}")
            }
            FileRule::AudioTrack { .. } => "有声音（须含音轨）".to_string(),
            FileRule::AudibleAudio { .. } => "声音清楚，不能全程无声".to_string(),
            FileRule::BrowserPlayable { .. } => {
                "视频编码能在浏览器中播放（建议 H.264）".to_string()
            }
            FileRule::SubtitlesDeclared { .. } => "重点内容配字幕（由作者声明）".to_string(),
            FileRule::MinLongEdge { pixels, .. } => format!("图片长边不少于 {pixels} 像素"),
            FileRule::MinFiles { count, .. } => format!("每组不少于 {count} 张"),
            FileRule::TextLength {
                min_chars,
                max_chars,
                ..
            } => format!("字数 {min_chars} 至 {max_chars} 字"),
        }
    }
}

fn duration_zh(seconds: u32) -> String {
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s} 秒"),
        (m, 0) => format!("{m} 分钟"),
        (m, s) => format!("{m} 分 {s} 秒"),
    }
}
