//! Holds a probe against a sub-project's file rules. Each broken rule is a finding with a
//! stable code and a Chinese message naming what was measured and what is required; a finding
//! of `Severity::Error` rejects the file.
//!
//! Three findings do not come from a rule and always reject: a damaged file, content no known
//! format matches, and content of the wrong kind (a photo sent to a video sub-project).

use serde::Serialize;

use super::sniff::{Family, Format};
use super::{Probe, audio::SILENCE_DBFS};
use crate::rules::{FileRule, MediaKind, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    Rejected,
}

impl Verdict {
    pub fn label_zh(self) -> &'static str {
        match self {
            Verdict::Accepted => "通过",
            Verdict::Rejected => "不通过",
        }
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// `format`, `too_large`, `too_long`, `aspect`, `low_resolution`, `no_audio`,
    /// `silent_audio`, `browser_playable`, `damaged`, `too_small`, `too_few_files`,
    /// `text_length`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

/// The verdict on one file (or, from `check_group`, on a group of files).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// Codes of error findings, each once, in rule order.
    pub errors: Vec<&'static str>,
    /// Codes of warning findings, each once.
    pub warnings: Vec<&'static str>,
    pub findings: Vec<Finding>,
    /// Information for the moderator (subtitle tracks found, what could not be measured).
    pub notes: Vec<String>,
}

impl Report {
    fn from_findings(findings: Vec<Finding>, notes: Vec<String>) -> Report {
        let codes = |severity| {
            let mut codes: Vec<&'static str> = Vec::new();
            for f in findings.iter().filter(|f| f.severity == severity) {
                if !codes.contains(&f.code) {
                    codes.push(f.code);
                }
            }
            codes
        };
        let errors = codes(Severity::Error);
        let warnings = codes(Severity::Warning);
        Report {
            verdict: if errors.is_empty() {
                Verdict::Accepted
            } else {
                Verdict::Rejected
            },
            errors,
            warnings,
            findings,
            notes,
        }
    }

    /// The findings' messages, in order.
    pub fn messages(&self) -> Vec<String> {
        self.findings.iter().map(|f| f.message.clone()).collect()
    }
}

/// Checks one probed file of a sub-project whose works are of kind `kind`.
pub fn check(kind: MediaKind, rules: &[FileRule], probe: &Probe) -> Report {
    let mut out = Vec::new();
    let mut notes = probe.notes.clone();
    let push = |out: &mut Vec<Finding>, code, severity, message: String| {
        out.push(Finding {
            code,
            severity,
            message,
        })
    };

    let kind_ok = kind_matches(kind, probe);
    if probe.format == Format::Unknown {
        push(
            &mut out,
            "format",
            Severity::Error,
            "无法识别文件格式：不是常见的视频、音频、图片或文本文件（按内容判断，与扩展名无关）"
                .to_string(),
        );
    } else if let Some(why) = kind_ok.as_ref().err() {
        push(&mut out, "format", Severity::Error, why.clone());
    }
    if let Some(damage) = &probe.damage {
        push(&mut out, "damaged", Severity::Error, damage.clone());
    }
    // Measurements of a damaged or wrong-kind file mean nothing; only its size and format do.
    // Containers Wangju does not measure (MKV, AVI, …) fail the format rule and nothing else.
    let measurable = probe.damage.is_none() && kind_ok.is_ok() && probe.measured();

    for rule in rules {
        let severity = rule.severity();
        match rule {
            FileRule::Format { allowed, .. } => {
                let ok = allowed
                    .iter()
                    .any(|name| Format::from_name(name) == Some(probe.format));
                // Unknown and wrong-kind content already has its `format` finding.
                if !ok && probe.format != Format::Unknown && kind_ok.is_ok() {
                    let wanted: Vec<String> = allowed.iter().map(|a| a.to_uppercase()).collect();
                    push(
                        &mut out,
                        "format",
                        severity,
                        format!(
                            "文件格式为 {}（按内容判断，与扩展名无关），要求 {}",
                            probe.format.label_zh(),
                            wanted.join("、")
                        ),
                    );
                }
            }
            FileRule::MaxSize { megabytes, .. } => {
                let limit = u64::from(*megabytes) * 1024 * 1024;
                if probe.size_bytes >= limit {
                    push(
                        &mut out,
                        "too_large",
                        severity,
                        format!(
                            "文件大小 {}，要求小于 {megabytes} MB",
                            size_zh(probe.size_bytes)
                        ),
                    );
                }
            }
            FileRule::MaxDuration { seconds, .. } if measurable => match probe.duration_s {
                Some(d) if d >= f64::from(*seconds) => push(
                    &mut out,
                    "too_long",
                    severity,
                    format!(
                        "{}时长 {}，要求短于 {}",
                        kind_word(kind),
                        duration_over_zh(d, *seconds),
                        duration_zh(f64::from(*seconds))
                    ),
                ),
                // Stills have no duration to read.
                None if probe.video.is_some() || probe.audio.is_some() => push(
                    &mut out,
                    "damaged",
                    severity,
                    format!(
                        "读不出{}时长，无法确认短于 {}",
                        kind_word(kind),
                        duration_zh(f64::from(*seconds))
                    ),
                ),
                _ => {}
            },
            FileRule::AspectRatio {
                width,
                height,
                tolerance_percent,
                ..
            } if measurable => {
                if let Some((w, h)) = probe.picture()
                    && !aspect_ok(w, h, *width, *height, *tolerance_percent)
                {
                    push(
                        &mut out,
                        "aspect",
                        severity,
                        format!(
                            "画面比例为 {}（{}，{}），要求 {width}:{height} {}",
                            ratio_zh(w, h),
                            orientation_zh(w, h),
                            picture_detail(probe),
                            orientation_zh(*width, *height)
                        ),
                    );
                }
            }
            FileRule::MinResolution { width, height, .. } if measurable => {
                if let Some((w, h)) = probe.picture() {
                    let (long, short) = (w.max(h), w.min(h));
                    let (need_long, need_short) = ((*width).max(*height), (*width).min(*height));
                    if long < need_long || short < need_short {
                        push(
                            &mut out,
                            "low_resolution",
                            severity,
                            format!("画面分辨率 {w}×{h}，要求不低于 {width}×{height}（画面清晰）"),
                        );
                    }
                }
            }
            FileRule::AudioTrack { .. } if measurable && probe.audio.is_none() => push(
                &mut out,
                "no_audio",
                severity,
                format!("{}没有音轨（无声音），要求有声音", kind_word(kind)),
            ),
            FileRule::AudibleAudio { .. } if measurable => {
                if let Some(level) = probe.audio.as_ref().and_then(|a| a.level.as_ref())
                    && level.peak_dbfs < SILENCE_DBFS
                {
                    let span = if level.complete {
                        "全程".to_string()
                    } else {
                        format!("已检测的前 {} 内", duration_zh(level.measured_s))
                    };
                    push(
                        &mut out,
                        "silent_audio",
                        severity,
                        format!(
                            "音轨{span}无声（峰值 {:.1} dBFS，低于 {SILENCE_DBFS:.0} dBFS），要求声音清楚",
                            level.peak_dbfs
                        ),
                    );
                }
            }
            FileRule::BrowserPlayable { .. } if measurable => {
                if let Some(v) = &probe.video
                    && matches!(v.codec.as_str(), "avc1" | "avc3")
                    && let Some(profile) = &v.profile
                    && !matches!(profile.as_str(), "Baseline" | "Main" | "High")
                {
                    push(
                        &mut out,
                        "browser_playable",
                        severity,
                        format!(
                            "视频为 H.264 {profile} 档次，浏览器和多数手机无法播放，建议转为 H.264 High 档次、4:2:0 8 位"
                        ),
                    );
                }
                if let Some(v) = &probe.video
                    && !matches!(v.codec.as_str(), "avc1" | "avc3")
                {
                    push(
                        &mut out,
                        "browser_playable",
                        severity,
                        format!(
                            "视频编码为 {}，部分浏览器和手机无法播放，建议转为 H.264",
                            codec_zh(&v.codec)
                        ),
                    );
                }
                if probe.video.is_some()
                    && let Some(a) = &probe.audio
                    && !matches!(a.codec.as_str(), "mp4a" | "mp3" | "aac")
                {
                    push(
                        &mut out,
                        "browser_playable",
                        severity,
                        format!(
                            "音频编码为 {}，部分浏览器无法播放，建议转为 AAC",
                            codec_zh(&a.codec)
                        ),
                    );
                }
            }
            FileRule::SubtitlesDeclared { .. } if measurable && probe.video.is_some() => {
                // Burnt-in subtitles cannot be seen in the container: the author declares them
                // and the moderator checks; tracks found are only information.
                if probe.subtitles.is_empty() {
                    notes.push(
                        "未检测到字幕轨；字幕可能已压制在画面中，由作者声明、审核员核对"
                            .to_string(),
                    );
                } else {
                    let names: Vec<String> = probe
                        .subtitles
                        .iter()
                        .map(|s| match &s.language {
                            Some(l) => format!("{}（{l}）", s.codec),
                            None => s.codec.clone(),
                        })
                        .collect();
                    notes.push(format!(
                        "检测到 {} 条字幕轨：{}；是否覆盖重点内容由审核员核对",
                        names.len(),
                        names.join("、")
                    ));
                }
            }
            FileRule::MinLongEdge { pixels, .. } if measurable => {
                if let Some((w, h)) = probe.picture()
                    && w.max(h) < *pixels
                {
                    push(
                        &mut out,
                        "too_small",
                        severity,
                        format!(
                            "图片长边 {} 像素（{w}×{h}），要求不少于 {pixels} 像素",
                            w.max(h)
                        ),
                    );
                }
            }
            FileRule::TextLength {
                min_chars,
                max_chars,
                ..
            } if measurable => {
                if let Some(t) = probe.text {
                    let n = t.chars;
                    if n < u64::from(*min_chars) || n > u64::from(*max_chars) {
                        let counted = if t.complete {
                            format!("{n} 字")
                        } else {
                            format!("超过 {n} 字")
                        };
                        push(
                            &mut out,
                            "text_length",
                            severity,
                            format!(
                                "字数 {counted}（不计空白），要求 {min_chars} 至 {max_chars} 字"
                            ),
                        );
                    }
                }
            }
            // Group rules are checked by `check_group`; the rest need a measurement that a
            // damaged or wrong-kind file does not have.
            _ => {}
        }
    }
    Report::from_findings(out, notes)
}

/// Rules about a submission as a whole (`min_files`). `None` when the rules have none.
pub fn check_group(rules: &[FileRule], files: usize) -> Option<Report> {
    let mut findings = Vec::new();
    let mut any = false;
    for rule in rules {
        if let FileRule::MinFiles { count, severity } = rule {
            any = true;
            if (files as u64) < u64::from(*count) {
                findings.push(Finding {
                    code: "too_few_files",
                    severity: *severity,
                    message: format!("共 {files} 个文件，要求每组不少于 {count} 个"),
                });
            }
        }
    }
    any.then(|| Report::from_findings(findings, Vec::new()))
}

/// Whether the content is the kind of work the sub-project asks for.
fn kind_matches(kind: MediaKind, probe: &Probe) -> Result<(), String> {
    let family = probe.format.family();
    let wrong = |want: &str| {
        Err(format!(
            "文件内容为 {}，本项目要求提交{want}",
            probe.format.label_zh()
        ))
    };
    match kind {
        _ if family == Family::Unknown => Ok(()), // reported as an unknown format
        MediaKind::Video => {
            if family != Family::Movie {
                wrong("视频")
            } else if probe.damage.is_none() && probe.format.is_iso_media() && probe.video.is_none()
            {
                Err("文件中没有视频画面，本项目要求提交视频".to_string())
            } else {
                Ok(())
            }
        }
        MediaKind::Photo if family != Family::Image => wrong("图片"),
        MediaKind::Audio if family != Family::Audio && family != Family::Movie => wrong("音频"),
        MediaKind::Text if family != Family::Text => wrong("纯文本文字稿"),
        _ => Ok(()),
    }
}

fn kind_word(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => "音频",
        _ => "视频",
    }
}

fn aspect_ok(w: u32, h: u32, want_w: u32, want_h: u32, tolerance_percent: f64) -> bool {
    if w == 0 || h == 0 || want_w == 0 || want_h == 0 {
        return false;
    }
    let actual = f64::from(w) / f64::from(h);
    let wanted = f64::from(want_w) / f64::from(want_h);
    let tolerance = if tolerance_percent.is_finite() {
        tolerance_percent.max(0.0)
    } else {
        0.0
    };
    ((actual / wanted - 1.0).abs() * 100.0) <= tolerance + 1e-9
}

/// `16:9`, `9:16`, `约 16:9`, or `1.85:1`.
pub fn ratio_zh(w: u32, h: u32) -> String {
    if w == 0 || h == 0 {
        return format!("{w}:{h}");
    }
    let g = gcd(w, h);
    let (a, b) = (w / g, h / g);
    if a <= 32 && b <= 32 {
        return format!("{a}:{b}");
    }
    let actual = f64::from(w) / f64::from(h);
    const COMMON: [(u32, u32); 10] = [
        (16, 9),
        (9, 16),
        (4, 3),
        (3, 4),
        (1, 1),
        (21, 9),
        (9, 21),
        (3, 2),
        (2, 3),
        (18, 9),
    ];
    for (cw, ch) in COMMON {
        let c = f64::from(cw) / f64::from(ch);
        if (actual / c - 1.0).abs() < 0.01 {
            return format!("约 {cw}:{ch}");
        }
    }
    if actual >= 1.0 {
        format!("{actual:.2}:1")
    } else {
        format!("1:{:.2}", 1.0 / actual)
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn orientation_zh(w: u32, h: u32) -> &'static str {
    match w.cmp(&h) {
        std::cmp::Ordering::Greater => "横屏",
        std::cmp::Ordering::Less => "竖屏",
        std::cmp::Ordering::Equal => "方形",
    }
}

/// `1080×1920`, plus how it came about when stored differently.
fn picture_detail(probe: &Probe) -> String {
    let Some(v) = &probe.video else {
        return match probe.image {
            Some(i) => format!("{}×{}", i.width, i.height),
            None => String::new(),
        };
    };
    let mut s = format!("{}×{}", v.display_width, v.display_height);
    let mut how = Vec::new();
    if let Some((hs, vs)) = v.pixel_aspect {
        how.push(format!("像素宽高比 {}", ratio_zh(hs, vs)));
    }
    if v.rotation != 0 {
        how.push(format!("旋转 {}°", v.rotation));
    }
    if !how.is_empty() {
        s.push_str(&format!(
            "；存储为 {}×{}，{}",
            v.coded_width,
            v.coded_height,
            how.join("、")
        ));
    }
    s
}

fn codec_zh(codec: &str) -> String {
    let name = match codec {
        "avc1" | "avc3" => "H.264",
        "hvc1" | "hev1" => "HEVC (H.265)",
        "vp08" => "VP8",
        "vp09" => "VP9",
        "av01" => "AV1",
        "jpeg" => "Motion JPEG",
        "mp4a" => "AAC",
        "ac-3" => "AC-3",
        "ec-3" => "E-AC-3",
        "opus" => "Opus",
        "flac" => "FLAC",
        "samr" => "AMR",
        "sowt" | "twos" | "lpcm" | "ipcm" | "fpcm" | "in24" | "in32" | "fl32" | "fl64" | "s16l" => {
            "未压缩 PCM"
        }
        _ => return codec.to_string(),
    };
    format!("{name}（{codec}）")
}

/// `63.2 MB` (1 MB = 1024 × 1024 bytes, as file managers show it).
pub fn size_zh(bytes: u64) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if mb >= 1.0 {
        format!("{mb:.1} MB")
    } else if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} 字节")
    }
}

/// `3 分 15 秒`, `45.2 秒`, `3 分钟`.
pub fn duration_zh(seconds: f64) -> String {
    duration_with(seconds, 1)
}

/// Like `duration_zh`, but never rounds a too-long duration down to the limit itself.
fn duration_over_zh(seconds: f64, limit: u32) -> String {
    let shown = duration_with(seconds, 1);
    if shown == duration_with(f64::from(limit), 1) {
        duration_with(seconds, 3)
    } else {
        shown
    }
}

fn duration_with(seconds: f64, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    let total = (seconds.max(0.0) * scale).round() / scale;
    let minutes = (total / 60.0).floor();
    let rest = ((total - minutes * 60.0) * scale).round() / scale;
    let secs = if rest.fract() == 0.0 {
        format!("{rest:.0}")
    } else {
        format!("{rest:.decimals$}")
            .trim_end_matches('0')
            .to_string()
    };
    match (minutes as u64, rest == 0.0) {
        (0, _) => format!("{secs} 秒"),
        (m, true) => format!("{m} 分钟"),
        (m, false) => format!("{m} 分 {secs} 秒"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AudioLevel, AudioTrack, VideoTrack};

    fn micro_video_rules() -> Vec<FileRule> {
        let toml = r#"rules = [
  { check = "format", allowed = ["mp4"], severity = "error" },
  { check = "max_size", megabytes = 50, severity = "error" },
  { check = "max_duration", seconds = 180, severity = "error" },
  { check = "aspect_ratio", width = 16, height = 9, tolerance_percent = 2.0, severity = "error" },
  { check = "min_resolution", width = 1280, height = 720, severity = "warning" },
  { check = "audio_track", severity = "error" },
  { check = "audible_audio", severity = "warning" },
  { check = "browser_playable", severity = "warning" },
  { check = "subtitles_declared", severity = "error" },
]"#;
        #[derive(serde::Deserialize)]
        struct R {
            rules: Vec<FileRule>,
        }
        toml::from_str::<R>(toml).expect("rules").rules
    }

    fn good_video() -> Probe {
        let mut p = Probe::new(12 * 1024 * 1024, Format::Mp4);
        p.duration_s = Some(95.0);
        p.video = Some(VideoTrack {
            codec: "avc1".into(),
            profile: Some("High".into()),
            coded_width: 1920,
            coded_height: 1080,
            pixel_aspect: None,
            rotation: 0,
            display_width: 1920,
            display_height: 1080,
        });
        p.audio = Some(AudioTrack {
            codec: "mp4a".into(),
            sample_rate: Some(48_000),
            channels: Some(2),
            level: Some(AudioLevel {
                peak_dbfs: -3.0,
                rms_dbfs: -20.0,
                measured_s: 10.0,
                complete: false,
            }),
        });
        p
    }

    #[test]
    fn a_good_video_passes_with_a_subtitle_note() {
        let r = check(MediaKind::Video, &micro_video_rules(), &good_video());
        assert_eq!(r.verdict, Verdict::Accepted, "{r:?}");
        assert!(r.errors.is_empty() && r.warnings.is_empty());
        assert!(r.notes.iter().any(|n| n.contains("字幕")));
    }

    #[test]
    fn each_broken_rule_says_what_was_measured() {
        let mut p = good_video();
        p.size_bytes = (63.2 * 1024.0 * 1024.0) as u64;
        p.duration_s = Some(195.0);
        if let Some(v) = p.video.as_mut() {
            v.codec = "hvc1".into();
            (v.display_width, v.display_height) = (1080, 1920);
        }
        if let Some(a) = p.audio.as_mut() {
            a.level = Some(AudioLevel {
                peak_dbfs: -120.0,
                rms_dbfs: -120.0,
                measured_s: 195.0,
                complete: true,
            });
        }
        let r = check(MediaKind::Video, &micro_video_rules(), &p);
        assert_eq!(r.verdict, Verdict::Rejected);
        assert_eq!(r.errors, vec!["too_large", "too_long", "aspect"]);
        assert_eq!(r.warnings, vec!["silent_audio", "browser_playable"]);
        let m = r.messages();
        assert!(
            m.contains(&"文件大小 63.2 MB，要求小于 50 MB".to_string()),
            "{m:?}"
        );
        assert!(
            m.contains(&"视频时长 3 分 15 秒，要求短于 3 分钟".to_string()),
            "{m:?}"
        );
        assert!(
            m.contains(&"画面比例为 9:16（竖屏，1080×1920），要求 16:9 横屏".to_string()),
            "{m:?}"
        );
    }

    #[test]
    fn h264_profiles_browsers_cannot_play_are_flagged() {
        let mut p = good_video();
        if let Some(v) = p.video.as_mut() {
            v.profile = Some("High 4:4:4 Predictive".into());
        }
        let r = check(MediaKind::Video, &micro_video_rules(), &p);
        assert_eq!(r.verdict, Verdict::Accepted);
        assert_eq!(r.warnings, vec!["browser_playable"]);
        assert!(r.messages()[0].contains("High 4:4:4 Predictive"));
    }

    #[test]
    fn format_is_judged_by_content_and_kind() {
        let mut mov = good_video();
        mov.format = Format::Mov;
        let r = check(MediaKind::Video, &micro_video_rules(), &mov);
        assert_eq!(r.errors, vec!["format"]);
        assert!(r.messages()[0].contains("QuickTime MOV"));

        let mut photo = Probe::new(1000, Format::Jpeg);
        photo.image = Some(crate::ImageSize {
            width: 1280,
            height: 720,
        });
        let r = check(MediaKind::Video, &micro_video_rules(), &photo);
        assert_eq!(r.errors, vec!["format"]);
        assert_eq!(r.findings.len(), 1, "one finding for one problem: {r:?}");

        let unknown = Probe::new(10, Format::Unknown);
        let r = check(MediaKind::Video, &micro_video_rules(), &unknown);
        assert_eq!(r.errors, vec!["format"]);
        assert_eq!(r.findings.len(), 1);
    }

    #[test]
    fn tolerance_and_limits_at_the_edge() {
        assert!(aspect_ok(1280, 720, 16, 9, 0.0));
        assert!(aspect_ok(1280, 712, 16, 9, 2.0));
        assert!(!aspect_ok(1280, 712, 16, 9, 1.0));
        assert!(!aspect_ok(0, 720, 16, 9, 2.0));
        let mut p = good_video();
        p.duration_s = Some(180.0);
        let r = check(MediaKind::Video, &micro_video_rules(), &p);
        assert_eq!(r.errors, vec!["too_long"], "shorter than, not up to");
        p.duration_s = Some(180.004);
        let r = check(MediaKind::Video, &micro_video_rules(), &p);
        assert!(
            r.messages()[0].contains("3 分 0.004 秒"),
            "{:?}",
            r.messages()
        );
        p.duration_s = Some(179.9);
        p.size_bytes = 50 * 1024 * 1024 - 1;
        assert_eq!(
            check(MediaKind::Video, &micro_video_rules(), &p).verdict,
            Verdict::Accepted
        );
    }

    #[test]
    fn human_figures() {
        assert_eq!(duration_zh(195.0), "3 分 15 秒");
        assert_eq!(duration_zh(180.0), "3 分钟");
        assert_eq!(duration_zh(45.25), "45.3 秒");
        assert_eq!(duration_zh(5.0), "5 秒");
        assert_eq!(ratio_zh(1920, 1080), "16:9");
        assert_eq!(ratio_zh(1080, 1920), "9:16");
        assert_eq!(ratio_zh(1366, 768), "约 16:9");
        assert_eq!(ratio_zh(1998, 1080), "1.85:1");
        assert_eq!(size_zh(1536), "1.5 KB");
        assert_eq!(size_zh(22), "22 字节");
    }

    #[test]
    fn groups_and_photos_and_text() {
        let rules: Vec<FileRule> = vec![
            FileRule::MinFiles {
                count: 3,
                severity: Severity::Error,
            },
            FileRule::MinLongEdge {
                pixels: 1920,
                severity: Severity::Error,
            },
        ];
        let g = check_group(&rules, 2).expect("group rule");
        assert_eq!(g.errors, vec!["too_few_files"]);
        assert!(check_group(&micro_video_rules(), 1).is_none());
        let mut photo = Probe::new(1000, Format::Jpeg);
        photo.image = Some(crate::ImageSize {
            width: 800,
            height: 600,
        });
        let r = check(MediaKind::Photo, &rules, &photo);
        assert_eq!(r.errors, vec!["too_small"]);
        assert!(r.messages()[0].contains("800 像素"));

        let text_rules = vec![FileRule::TextLength {
            min_chars: 10,
            max_chars: 20,
            severity: Severity::Warning,
        }];
        let mut text = Probe::new(30, Format::Text);
        text.text = Some(crate::TextLength {
            chars: 5,
            complete: true,
        });
        let r = check(MediaKind::Text, &text_rules, &text);
        assert_eq!(r.verdict, Verdict::Accepted);
        assert_eq!(r.warnings, vec!["text_length"]);
    }
}
