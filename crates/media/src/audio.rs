//! Audio level (and, for audio-only files, duration) by decoding with symphonia. The work is
//! bounded: decoding stops once sound has been heard for a while, and in any case after a
//! fixed number of packets or a fixed wall time, so a hostile file cannot hang the server.

use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

use symphonia::core::codecs::audio::well_known::{CODEC_ID_AAC, CODEC_ID_MP3};
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;
use symphonia::core::units::{Duration as SymDuration, Timestamp};

use super::isobmff::{AudioFeed, FeedCodec};
use super::{AudioLevel, AudioTrack, Reopen};

/// A track whose peak stays below this is silent throughout.
pub const SILENCE_DBFS: f64 = -60.0;
/// Levels are floored here so that digital silence stays a finite number (JSON has no -inf).
const FLOOR_DBFS: f64 = -120.0;
/// Once sound has been found, this much audio is enough for the RMS figure.
const ENOUGH_SOUND_S: f64 = 10.0;
/// Packets read (all tracks) before giving up.
const MAX_PACKETS: u32 = 60_000;
/// Consecutive undecodable packets before giving up.
const MAX_BAD_PACKETS: u32 = 200;
/// Wall time for the whole scan.
const MAX_TIME: Duration = Duration::from_secs(15);
/// Largest compressed audio frame accepted (AAC and MP3 frames are a few KB).
const MAX_AUDIO_SAMPLE: u32 = 256 * 1024;

/// What decoding found.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// The audio track (only filled for audio-only files, where the container parser is
    /// symphonia's own).
    pub track: Option<AudioTrack>,
    pub duration_s: Option<f64>,
    pub level: Option<AudioLevel>,
    /// Why something could not be measured, in Chinese.
    pub note: Option<String>,
}

/// Decodes the default audio track of the source. `want_duration` also asks for the duration
/// (audio-only files), which may mean reading packet headers to the end, within the caps.
pub(super) fn scan(reopen: &Reopen<'_>, want_duration: bool) -> Scan {
    // Third-party decoders: a panic in one is an unmeasurable file, never a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scan_inner(reopen, want_duration)
    }))
    .unwrap_or_else(|_| Scan {
        note: Some("音频解码器无法处理此文件，未测量音量".to_string()),
        ..Scan::default()
    })
}

/// Decodes the audio samples an MP4's own tables point at: only audio bytes are read, and the
/// container is never parsed a second time.
pub(super) fn scan_feed<R: Read + Seek>(r: &mut R, len: u64, feed: &AudioFeed) -> Scan {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scan_feed_inner(r, len, feed)
    }))
    .unwrap_or_else(|_| Scan {
        note: Some("音频解码器无法处理此文件，未测量音量".to_string()),
        ..Scan::default()
    })
}

fn scan_feed_inner<R: Read + Seek>(r: &mut R, len: u64, feed: &AudioFeed) -> Scan {
    let mut params = AudioCodecParameters::new();
    match &feed.codec {
        FeedCodec::Aac(asc) => {
            params
                .for_codec(CODEC_ID_AAC)
                .with_extra_data(asc.clone().into_boxed_slice());
        }
        FeedCodec::Mp3 => {
            params.for_codec(CODEC_ID_MP3);
        }
    }
    if let Some(rate) = feed.sample_rate {
        params.with_sample_rate(rate);
    }
    let mut decoder = match symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
    {
        Ok(d) => d,
        Err(e) => {
            return Scan {
                note: Some(format!("不支持此音频编码（{e}），未测量音量")),
                ..Scan::default()
            };
        }
    };
    let mut samples = feed.samples();
    let outcome = decode_loop(decoder.as_mut(), feed.sample_rate, false, || {
        let Some((offset, size)) = samples.next() else {
            return Step::End;
        };
        if size > MAX_AUDIO_SAMPLE || offset.saturating_add(u64::from(size)) > len {
            return Step::Broken;
        }
        let mut data = vec![0u8; size as usize];
        if r.seek(SeekFrom::Start(offset)).is_err() || r.read_exact(&mut data).is_err() {
            return Step::Broken;
        }
        Step::Packet(Packet::new(0, Timestamp::new(0), SymDuration::new(0), data))
    });
    let level = outcome.level();
    Scan {
        note: level
            .is_none()
            .then(|| "音轨中没有可解码的声音数据，未测量音量".to_string()),
        level,
        ..Scan::default()
    }
}

fn scan_inner(reopen: &Reopen<'_>, want_duration: bool) -> Scan {
    let source = match reopen() {
        Ok(source) => source,
        Err(e) => {
            return Scan {
                note: Some(format!("无法再次读取文件以测量音量：{e}")),
                ..Scan::default()
            };
        }
    };
    let stream = MediaSourceStream::new(source, MediaSourceStreamOptions::default());
    let mut format = match symphonia::default::get_probe().probe(
        &Hint::new(),
        stream,
        FormatOptions::default(),
        MetadataOptions::default(),
    ) {
        Ok(format) => format,
        Err(e) => {
            return Scan {
                note: Some(format!("音频无法解析（{e}），未测量音量")),
                ..Scan::default()
            };
        }
    };
    let Some(track) = format.default_track(TrackType::Audio).cloned() else {
        return Scan {
            note: Some("没有可解码的音轨，未测量音量".to_string()),
            ..Scan::default()
        };
    };
    let params = track.codec_params.as_ref().and_then(|p| p.audio()).cloned();
    let sample_rate = params.as_ref().and_then(|p| p.sample_rate);
    let channels = params
        .as_ref()
        .and_then(|p| p.channels.as_ref())
        .and_then(|c| u16::try_from(c.count()).ok());
    let codec = params
        .as_ref()
        .and_then(|p| symphonia::default::get_codecs().get_audio_decoder(p.codec))
        .map(|d| d.codec.info.short_name.to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let mut scan = Scan {
        track: Some(AudioTrack {
            codec,
            sample_rate,
            channels,
            level: None,
        }),
        duration_s: track.time_base.zip(track.duration).and_then(|(tb, d)| {
            tb.calc_duration(d)
                .map(|t| t.as_secs_f64())
                .filter(|s| s.is_finite() && *s >= 0.0)
        }),
        ..Scan::default()
    };
    let Some(params) = params else {
        scan.note = Some("音轨缺少编码参数，未测量音量".to_string());
        return scan;
    };
    let mut decoder = match symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
    {
        Ok(d) => d,
        Err(e) => {
            scan.note = Some(format!("不支持此音频编码（{e}），未测量音量"));
            return scan;
        }
    };
    let count_duration = want_duration && scan.duration_s.is_none();
    let outcome = decode_loop(decoder.as_mut(), sample_rate, count_duration, || {
        match format.next_packet() {
            Ok(Some(p)) if p.track_id == track.id => Step::Packet(p),
            Ok(Some(_)) => Step::Other,
            Ok(None) => Step::End,
            // A damaged tail ends the measurement; what was decoded still counts.
            Err(_) => Step::Broken,
        }
    });
    if count_duration && outcome.reached_end {
        scan.duration_s = track
            .time_base
            .and_then(|tb| tb.calc_duration(SymDuration::new(outcome.ticks)))
            .map(|t| t.as_secs_f64());
    }
    scan.level = outcome.level();
    if scan.level.is_none() {
        scan.note = Some("音轨中没有可解码的声音数据，未测量音量".to_string());
    }
    if let Some(t) = scan.track.as_mut() {
        t.level = scan.level.clone();
    }
    scan
}

/// One step of a demuxer.
enum Step {
    Packet(Packet),
    /// A packet of another track.
    Other,
    End,
    Broken,
}

struct Outcome {
    meter: Meter,
    sample_rate: Option<u32>,
    reached_end: bool,
    /// Sum of packet durations, in the track's time base.
    ticks: u64,
}

impl Outcome {
    fn level(&self) -> Option<AudioLevel> {
        self.meter.level(self.sample_rate, self.reached_end)
    }
}

/// The bounded decode loop both paths share. With `count_duration` it keeps reading packet
/// headers (without decoding) after the level is known, to add up the duration.
fn decode_loop(
    decoder: &mut dyn AudioDecoder,
    sample_rate: Option<u32>,
    count_duration: bool,
    mut next: impl FnMut() -> Step,
) -> Outcome {
    let deadline = Instant::now() + MAX_TIME;
    let mut out = Outcome {
        meter: Meter::default(),
        sample_rate,
        reached_end: false,
        ticks: 0,
    };
    let mut packets = 0u32;
    let mut bad_in_a_row = 0u32;
    let mut samples: Vec<f32> = Vec::new();
    while packets < MAX_PACKETS && Instant::now() < deadline {
        packets += 1;
        let packet = match next() {
            Step::Packet(p) => p,
            Step::Other => continue,
            Step::End => {
                out.reached_end = true;
                break;
            }
            Step::Broken => break,
        };
        out.ticks = out.ticks.saturating_add(packet.dur.get());
        let heard_enough = out.meter.peak >= db_to_amplitude(SILENCE_DBFS)
            && out.meter.seconds(sample_rate) >= ENOUGH_SOUND_S;
        if heard_enough {
            if count_duration {
                continue;
            }
            break;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                bad_in_a_row = 0;
                if out.sample_rate.is_none() {
                    out.sample_rate = Some(buf.spec().rate());
                }
                buf.copy_to_vec_interleaved::<f32>(&mut samples);
                out.meter.add(&samples, buf.frames() as u64);
            }
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                bad_in_a_row += 1;
                if bad_in_a_row >= MAX_BAD_PACKETS {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    out
}

#[derive(Default)]
struct Meter {
    peak: f32,
    sum_squares: f64,
    samples: u64,
    frames: u64,
}

impl Meter {
    fn add(&mut self, interleaved: &[f32], frames: u64) {
        for &s in interleaved {
            // NaN from a broken decoder must not poison the figures.
            let s = if s.is_finite() { s.abs() } else { 0.0 };
            if s > self.peak {
                self.peak = s;
            }
            self.sum_squares += f64::from(s) * f64::from(s);
        }
        self.samples += interleaved.len() as u64;
        self.frames += frames;
    }

    fn seconds(&self, sample_rate: Option<u32>) -> f64 {
        match sample_rate {
            Some(rate) if rate > 0 => self.frames as f64 / f64::from(rate),
            _ => 0.0,
        }
    }

    fn level(&self, sample_rate: Option<u32>, reached_end: bool) -> Option<AudioLevel> {
        if self.samples == 0 {
            return None;
        }
        let rms = (self.sum_squares / self.samples as f64).sqrt();
        Some(AudioLevel {
            peak_dbfs: to_dbfs(f64::from(self.peak)),
            rms_dbfs: to_dbfs(rms),
            measured_s: (self.seconds(sample_rate) * 100.0).round() / 100.0,
            complete: reached_end,
        })
    }
}

fn to_dbfs(amplitude: f64) -> f64 {
    if amplitude <= 0.0 || !amplitude.is_finite() {
        return FLOOR_DBFS;
    }
    let db = 20.0 * amplitude.log10();
    ((db.max(FLOOR_DBFS)) * 10.0).round() / 10.0
}

fn db_to_amplitude(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_in_dbfs() {
        assert_eq!(to_dbfs(1.0), 0.0);
        assert_eq!(to_dbfs(0.5), -6.0);
        assert_eq!(to_dbfs(0.0), FLOOR_DBFS);
        assert_eq!(to_dbfs(f64::NAN), FLOOR_DBFS);
        let mut m = Meter::default();
        m.add(&[0.0, 0.5, -0.5, 0.0], 2);
        let level = m.level(Some(2), true).expect("level");
        assert_eq!(level.peak_dbfs, -6.0);
        assert_eq!(level.rms_dbfs, -9.0);
        assert_eq!(level.measured_s, 1.0);
    }
}
