//! Media files as the file rules see them: a probe that measures what a submitted file is
//! (container judged from content, duration, displayed picture size after rotation and pixel
//! aspect, codecs, audio level, subtitle tracks, image size, text length) and a check that holds
//! the measurement against a sub-project's `FileRule`s. Documented in `docs/media-rules.md`.
//!
//! The probe reads only the boxes it needs (an MP4's `mdat` is skipped, never read), caps every
//! allocation driven by the file, bounds the audio decode by packets and wall time, and never
//! panics on hostile input: anything it cannot make sense of is reported as `damaged`.

// Hostile files are read here: no unsafe code, not even allowed by name.
#![forbid(unsafe_code)]

mod audio;
pub mod check;
pub mod clean;
mod isobmff;
pub mod photo;
#[cfg(feature = "poster")]
pub mod poster;
pub mod rules;
pub mod sniff;
mod text;

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;
use symphonia::core::io::MediaSource;

pub use check::{Finding, Report, Verdict, check, check_group};
pub use sniff::{Family, Format};

/// Everything the probe measured about one file. Fields it could not measure are `None`.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub size_bytes: u64,
    /// Judged from the content, never from the name.
    pub format: Format,
    /// Why the file cannot be read as what it claims to be (truncated, corrupt, hostile), in
    /// Chinese. A damaged file is always rejected.
    pub damage: Option<String>,
    pub duration_s: Option<f64>,
    pub video: Option<VideoTrack>,
    pub audio: Option<AudioTrack>,
    pub subtitles: Vec<SubtitleTrack>,
    pub image: Option<ImageSize>,
    pub text: Option<TextLength>,
    /// Things worth telling the moderator that are not findings (e.g. the volume could not be
    /// measured), in Chinese.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoTrack {
    /// Sample entry type, e.g. `avc1`, `hvc1`.
    pub codec: String,
    /// H.264 profile, e.g. `High`; browsers play Baseline, Main and High only.
    pub profile: Option<String>,
    /// Picture size as stored (sample entry, or track header when the entry has none).
    pub coded_width: u32,
    pub coded_height: u32,
    /// Pixel aspect ratio from `pasp` (hSpacing, vSpacing), when it is not square.
    pub pixel_aspect: Option<(u32, u32)>,
    /// Clockwise rotation from the track header's display matrix: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Size as players show it, after pixel aspect and rotation.
    pub display_width: u32,
    pub display_height: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioTrack {
    /// e.g. `mp4a`, `mp3`, `flac`, `pcm`.
    pub codec: String,
    pub sample_rate: Option<u32>,
    pub channels: Option<u16>,
    pub level: Option<AudioLevel>,
}

/// Loudness of the decoded audio, in dB relative to full scale (floored at -120).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioLevel {
    pub peak_dbfs: f64,
    pub rms_dbfs: f64,
    /// How much audio was decoded.
    pub measured_s: f64,
    /// False when decoding stopped early: after finding sound, or at the work cap.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubtitleTrack {
    /// e.g. `tx3g`, `wvtt`, `stpp`, or the handler type when the entry is unknown.
    pub codec: String,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TextLength {
    /// Characters other than white space.
    pub chars: u64,
    /// False when counting stopped at the cap (the file is longer than any text rule allows).
    pub complete: bool,
}

impl Probe {
    fn new(size_bytes: u64, format: Format) -> Probe {
        Probe {
            size_bytes,
            format,
            damage: None,
            duration_s: None,
            video: None,
            audio: None,
            subtitles: Vec::new(),
            image: None,
            text: None,
            notes: Vec::new(),
        }
    }

    /// Whether anything in the content was measured (not just the size and format).
    pub fn measured(&self) -> bool {
        self.video.is_some()
            || self.audio.is_some()
            || self.image.is_some()
            || self.text.is_some()
            || self.duration_s.is_some()
    }

    /// Displayed picture size: the video's, or the image's.
    pub fn picture(&self) -> Option<(u32, u32)> {
        match (&self.video, &self.image) {
            (Some(v), _) => Some((v.display_width, v.display_height)),
            (None, Some(i)) => Some((i.width, i.height)),
            (None, None) => None,
        }
    }
}

/// Probes a file on disk. Errors only when the file cannot be opened or read at all; anything
/// wrong with its content is in the returned `Probe`.
pub fn probe_path(path: &Path) -> std::io::Result<Probe> {
    probe_path_with(path, true)
}

/// `probe_path` without decoding an MP4's audio to measure its level (`AudioTrack::level` stays
/// `None`); everything else is measured the same. The audio decode is the one part of probing
/// an MP4 that reads the media data; `benches/uploads.rs` times the probe with and without it.
pub fn probe_path_without_audio_level(path: &Path) -> std::io::Result<Probe> {
    probe_path_with(path, false)
}

fn probe_path_with(path: &Path, audio_level: bool) -> std::io::Result<Probe> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "不是普通文件",
        ));
    }
    let mut reader = BufReader::new(file);
    Ok(probe_with(
        &mut reader,
        meta.len(),
        &|| Ok(Box::new(File::open(path)?) as Box<dyn MediaSource>),
        audio_level,
    ))
}

/// Probes bytes in memory (tests, fuzzing, uploads already buffered).
pub fn probe_bytes(bytes: &[u8]) -> Probe {
    let len = bytes.len() as u64;
    probe_with(
        &mut Cursor::new(bytes),
        len,
        &|| Ok(Box::new(Cursor::new(bytes)) as Box<dyn MediaSource + '_>),
        true,
    )
}

/// A second, independent reader over the same bytes, for the audio decoder.
type Reopen<'a> = dyn Fn() -> std::io::Result<Box<dyn MediaSource + 'a>> + 'a;

fn probe_with<'a, R: Read + Seek>(
    r: &mut R,
    len: u64,
    reopen: &Reopen<'a>,
    audio_level: bool,
) -> Probe {
    let head = match read_head(r) {
        Ok(head) => head,
        Err(e) => {
            let mut p = Probe::new(len, Format::Unknown);
            p.damage = Some(format!("读取文件失败：{e}"));
            return p;
        }
    };
    let format = sniff::detect(&head);
    let mut p = Probe::new(len, format);
    if format.is_iso_media() {
        probe_iso(r, len, &mut p, audio_level);
    } else {
        match format.family() {
            Family::Audio => probe_audio_file(reopen, &mut p),
            Family::Image => probe_image(r, &mut p),
            Family::Text => match text::count(r) {
                Ok(t) => p.text = Some(t),
                Err(damage) => p.damage = Some(damage),
            },
            // Other containers fail the format rule; nothing in them is measured.
            Family::Movie | Family::Unknown => {}
        }
    }
    p
}

fn read_head<R: Read + Seek>(r: &mut R) -> std::io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(sniff::SNIFF_LEN);
    r.by_ref()
        .take(sniff::SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

fn probe_iso<R: Read + Seek>(r: &mut R, len: u64, p: &mut Probe, audio_level: bool) {
    let movie = match isobmff::measure(r, len) {
        Ok(movie) => movie,
        Err(damage) => {
            p.damage = Some(damage);
            return;
        }
    };
    p.duration_s = movie.duration_s;
    p.video = movie.video;
    p.subtitles = movie.subtitles;
    p.audio = movie.audio;
    if p.audio.is_some() && audio_level {
        let scan = match &movie.audio_feed {
            Some(feed) => audio::scan_feed(r, len, feed),
            None => audio::Scan {
                note: Some(format!(
                    "音频编码 {} 暂不支持测量音量",
                    p.audio.as_ref().map_or("", |a| a.codec.as_str())
                )),
                ..audio::Scan::default()
            },
        };
        if let Some(a) = p.audio.as_mut() {
            a.level = scan.level;
        }
        p.notes.extend(scan.note);
    }
}

fn probe_audio_file<'a>(reopen: &Reopen<'a>, p: &mut Probe) {
    let scan = audio::scan(reopen, true);
    if scan.track.is_none() {
        match scan.note {
            Some(note) if p.format == Format::Ogg => p.notes.push(note),
            Some(note) => p.damage = Some(note),
            None => p.damage = Some("音频文件中没有可读的音轨".to_string()),
        }
        return;
    }
    p.duration_s = scan.duration_s;
    p.audio = scan.track.map(|mut t| {
        t.level = scan.level;
        t
    });
    p.notes.extend(scan.note);
}

fn probe_image<R: Read + Seek>(r: &mut R, p: &mut Probe) {
    let size = r
        .seek(SeekFrom::Start(0))
        .map_err(|_| imagesize::ImageError::NotSupported)
        .and_then(|_| {
            // The header parser is third-party code; a panic in it is a damaged file, not a crash.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                imagesize::reader_size(BufReader::new(&mut *r))
            }))
            .unwrap_or(Err(imagesize::ImageError::NotSupported))
        });
    match size {
        Ok(s) if s.width > 0 && s.height > 0 => {
            p.image = Some(ImageSize {
                width: u32::try_from(s.width).unwrap_or(u32::MAX),
                height: u32::try_from(s.height).unwrap_or(u32::MAX),
            })
        }
        _ => p.damage = Some("图片文件损坏或不完整，读不出尺寸".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::rules::{FileRule, MediaKind, Severity};

    // Made with ffmpeg: 64×36 H.264 + 8 kHz mono AAC, 0.4 s, `-movflags +faststart`; the
    // fragmented one 48×64 with `+frag_keyframe+empty_moov`.
    const TINY: &[u8] = include_bytes!("testdata/tiny.mp4");
    const FRAGMENTED: &[u8] = include_bytes!("testdata/frag.mp4");

    #[test]
    fn a_real_mp4_is_measured() {
        let p = probe_bytes(TINY);
        assert_eq!(p.format, Format::Mp4);
        assert_eq!(p.damage, None);
        assert_eq!(p.duration_s, Some(0.4));
        let v = p.video.as_ref().expect("video");
        assert_eq!(
            (v.codec.as_str(), v.display_width, v.display_height),
            ("avc1", 64, 36)
        );
        let a = p.audio.as_ref().expect("audio");
        assert_eq!(
            (a.codec.as_str(), a.sample_rate, a.channels),
            ("mp4a", Some(8000), Some(1))
        );
        let level = a.level.as_ref().expect("level");
        assert!(level.peak_dbfs > -30.0, "{level:?}");
    }

    #[test]
    fn a_fragmented_mp4_adds_up_its_fragments() {
        let p = probe_bytes(FRAGMENTED);
        assert_eq!(p.damage, None);
        let d = p.duration_s.expect("duration");
        assert!((d - 0.528).abs() < 0.01, "{d}");
        let v = p.video.as_ref().expect("video");
        assert_eq!((v.display_width, v.display_height), (48, 64));
        // The audio samples are found through the fragments' run tables.
        let level = p
            .audio
            .as_ref()
            .and_then(|a| a.level.as_ref())
            .expect("level");
        assert!(level.peak_dbfs > -30.0, "{level:?}");
    }

    /// Found by the fuzzer: an `sgpd` table of zero-byte entries made `mp4-atom` allocate
    /// gigabytes from a few kilobytes. Boxes Wangju does not read are now never decoded.
    #[test]
    fn a_sample_group_bomb_is_not_decoded() {
        let p = probe_bytes(include_bytes!("testdata/sgpd-bomb.mp4"));
        assert_eq!(p.format, Format::Mp4);
    }

    /// Found by the fuzzer: symphonia 0.6.1's WAV reader overflows (and, with overflow checks
    /// on, panics) on this header. The panic stays inside the probe.
    #[test]
    fn a_decoder_panic_is_contained() {
        let p = probe_bytes(include_bytes!("testdata/wav-overflow.wav"));
        assert_eq!(p.format, Format::Wav);
        assert!(p.damage.is_some() || !p.notes.is_empty(), "{p:?}");
    }

    #[test]
    fn every_cut_of_a_real_mp4_is_damaged_not_a_crash() {
        for cut in (0..TINY.len()).step_by(97) {
            let p = probe_bytes(&TINY[..cut]);
            assert!(
                p.damage.is_some() || p.format == Format::Unknown,
                "cut at {cut}: {p:?}"
            );
        }
    }

    fn rules() -> Vec<FileRule> {
        vec![
            FileRule::Format {
                allowed: vec!["mp4".into()],
                severity: Severity::Error,
            },
            FileRule::MaxDuration {
                seconds: 180,
                severity: Severity::Error,
            },
            FileRule::AspectRatio {
                width: 16,
                height: 9,
                tolerance_percent: 2.0,
                severity: Severity::Error,
            },
            FileRule::AudibleAudio {
                severity: Severity::Warning,
            },
            FileRule::BrowserPlayable {
                severity: Severity::Warning,
            },
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Noise never panics, and the check accepts nothing it cannot read.
        #[test]
        fn noise_is_rejected_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let p = probe_bytes(&bytes);
            let r = check(MediaKind::Video, &rules(), &p);
            prop_assert!(r.verdict == Verdict::Rejected || p.video.is_some());
        }

        /// A real file with bytes overwritten, cut or spliced: no panic, and the probe finishes.
        #[test]
        fn mutated_mp4_never_panics(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..24),
            cut in any::<prop::sample::Index>(),
            splice in proptest::collection::vec(any::<u8>(), 0..32),
            fragmented in any::<bool>(),
        ) {
            let base = if fragmented { FRAGMENTED } else { TINY };
            let mut bytes = base.to_vec();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let at = cut.index(bytes.len());
            bytes.splice(at..at, splice);
            let started = std::time::Instant::now();
            let p = probe_bytes(&bytes);
            let _ = check(MediaKind::Video, &rules(), &p);
            prop_assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[test]
    fn empty_and_random_input_are_not_crashes() {
        let p = probe_bytes(&[]);
        assert_eq!(p.format, Format::Unknown);
        let noise: Vec<u8> = (0..10_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let p = probe_bytes(&noise);
        assert!(p.format == Format::Unknown || p.damage.is_some());
    }

    #[test]
    fn text_is_counted_without_white_space() {
        let p = probe_bytes("网聚 职工\n正能量".as_bytes());
        assert_eq!(p.format, Format::Text);
        assert_eq!(
            p.text,
            Some(TextLength {
                chars: 7,
                complete: true
            })
        );
    }
}
