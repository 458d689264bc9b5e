//! MP4/MOV (ISO base media) measurement. Walks the top-level boxes by their headers, seeking
//! over `mdat` and anything else it does not need, reads the movie box (capped) and decodes it
//! with `mp4-atom`. Every size comes from the file and is checked before it is used.

use std::io::{Read, Seek, SeekFrom};

use mp4_atom::{Codec, Decode, Matrix, Moof, Moov, StszSamples, TrunSamples};

use super::{AudioTrack, SubtitleTrack, VideoTrack};

/// Largest movie box read into memory. Sample tables of a two-hour 60 fps film take a few MB.
const MAX_MOOV: u64 = 32 << 20;
/// Largest fragment header read; and all fragment headers together.
const MAX_MOOF: u64 = 8 << 20;
const MAX_MOOF_TOTAL: u64 = 64 << 20;
/// Top-level boxes walked before the file is called hostile.
const MAX_TOP_BOXES: u32 = 200_000;
/// Largest single sample (a 4K key frame is a few MB); larger means a forged table.
const MAX_SAMPLE: u32 = 32 << 20;

/// What the movie box says.
#[derive(Debug, Default)]
pub(super) struct Movie {
    pub duration_s: Option<f64>,
    pub video: Option<VideoTrack>,
    pub audio: Option<AudioTrack>,
    pub subtitles: Vec<SubtitleTrack>,
    /// Where the audio samples are, when Wangju can hand them to a decoder itself.
    pub audio_feed: Option<AudioFeed>,
    /// Where an H.264 picture track's samples are (plain MP4s), for the poster frame.
    pub video_feed: Option<VideoFeed>,
}

/// An H.264 track's decoder setup (from its `avcC`) and where its samples are. Read by the
/// poster (feature `poster`); built without it too, so the probe (and its fuzzer) still reads
/// the tables the same way.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "poster"), allow(dead_code))]
pub(super) struct VideoFeed {
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
    /// Bytes of each NAL unit's length prefix in a sample (1, 2 or 4).
    pub length_size: u8,
    layout: Layout,
}

#[cfg_attr(not(feature = "poster"), allow(dead_code))]
impl VideoFeed {
    fn from_tables(trak: &mp4_atom::Trak, codec: &Codec) -> Option<VideoFeed> {
        let Codec::Avc1(avc) = codec else {
            return None;
        };
        Some(VideoFeed {
            sps: avc.avcc.sequence_parameter_sets.clone(),
            pps: avc.avcc.picture_parameter_sets.clone(),
            length_size: avc.avcc.length_size,
            layout: Layout::from_tables(trak)?,
        })
    }

    /// (file offset, size) of each sample in decoding order.
    pub fn samples(&self) -> Samples<'_> {
        self.layout.samples()
    }
}

/// Audio codecs the level check decodes from an MP4's own sample tables.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FeedCodec {
    /// AAC with its AudioSpecificConfig.
    Aac(Vec<u8>),
    Mp3,
}

/// Where an audio track's samples are: enough to read them without any other demuxer, so the
/// level check reads only audio bytes and never the picture.
#[derive(Debug, Clone)]
pub(super) struct AudioFeed {
    pub codec: FeedCodec,
    pub sample_rate: Option<u32>,
    layout: Layout,
}

#[derive(Debug, Clone)]
enum Layout {
    /// A plain MP4's sample tables.
    Tables {
        chunk_offsets: Vec<u64>,
        /// (first chunk, 1-based; samples per chunk).
        chunks: Vec<(u32, u32)>,
        sizes: StszSamples,
    },
    /// A fragmented MP4's samples, gathered from its fragments (capped).
    Listed(Vec<(u64, u32)>),
}

/// The decoder for a sample entry, when the level check has one.
fn feed_codec(codec: &Codec) -> Option<FeedCodec> {
    Some(match codec {
        Codec::Mp4a(m) => {
            let config = &m.esds.es_desc.dec_config;
            match config.object_type_indication {
                // MPEG-4 AAC and MPEG-2 AAC profiles.
                0x40 | 0x66 | 0x67 | 0x68 => {
                    let asc = config.dec_specific.as_ref()?.raw.clone();
                    if asc.len() < 2 {
                        return None;
                    }
                    FeedCodec::Aac(asc)
                }
                0x69 | 0x6B => FeedCodec::Mp3,
                _ => return None,
            }
        }
        Codec::Mp3(_) => FeedCodec::Mp3,
        _ => return None,
    })
}

fn sample_rate(codec: &Codec) -> Option<u32> {
    codec
        .audio()
        .map(|a| u32::from(a.sample_rate.integer()))
        .filter(|r| *r > 0)
}

impl Layout {
    /// A plain MP4 track's sample tables.
    fn from_tables(trak: &mp4_atom::Trak) -> Option<Layout> {
        let stbl = &trak.mdia.minf.stbl;
        let chunk_offsets: Vec<u64> = match (&stbl.stco, &stbl.co64) {
            (Some(t), _) => t.entries.iter().map(|&o| u64::from(o)).collect(),
            (None, Some(t)) => t.entries.clone(),
            (None, None) => return None,
        };
        Some(Layout::Tables {
            chunk_offsets,
            chunks: stbl
                .stsc
                .entries
                .iter()
                .map(|e| (e.first_chunk, e.samples_per_chunk))
                .collect(),
            sizes: stbl.stsz.samples.clone(),
        })
    }

    fn samples(&self) -> Samples<'_> {
        Samples {
            layout: self,
            chunk: 0,
            stsc: 0,
            in_chunk: 0,
            offset_in_chunk: 0,
            sample: 0,
        }
    }
}

impl AudioFeed {
    fn from_tables(trak: &mp4_atom::Trak, codec: &Codec) -> Option<AudioFeed> {
        Some(AudioFeed {
            codec: feed_codec(codec)?,
            sample_rate: sample_rate(codec),
            layout: Layout::from_tables(trak)?,
        })
    }

    /// (file offset, size) of each sample in decoding order.
    pub fn samples(&self) -> Samples<'_> {
        self.layout.samples()
    }
}

pub(super) struct Samples<'a> {
    layout: &'a Layout,
    chunk: usize,
    stsc: usize,
    in_chunk: u32,
    offset_in_chunk: u64,
    sample: u32,
}

impl Iterator for Samples<'_> {
    type Item = (u64, u32);

    fn next(&mut self) -> Option<(u64, u32)> {
        let (chunk_offsets, chunks, sizes) = match self.layout {
            Layout::Listed(list) => {
                let item = list.get(self.sample as usize).copied();
                self.sample = self.sample.saturating_add(1);
                return item;
            }
            Layout::Tables {
                chunk_offsets,
                chunks,
                sizes,
            } => (chunk_offsets, chunks, sizes),
        };
        let count = match sizes {
            StszSamples::Identical { count, .. } => *count,
            StszSamples::Different { sizes } => u32::try_from(sizes.len()).ok()?,
        };
        loop {
            if self.sample >= count {
                return None;
            }
            let base = *chunk_offsets.get(self.chunk)?;
            let chunk_number = u32::try_from(self.chunk + 1).ok()?;
            while chunks
                .get(self.stsc + 1)
                .is_some_and(|(first, _)| *first <= chunk_number)
            {
                self.stsc += 1;
            }
            let per_chunk = chunks.get(self.stsc).map_or(0, |(_, n)| *n);
            if self.in_chunk >= per_chunk {
                self.chunk += 1;
                self.in_chunk = 0;
                self.offset_in_chunk = 0;
                continue;
            }
            let size = match sizes {
                StszSamples::Identical { size, .. } => *size,
                StszSamples::Different { sizes } => *sizes.get(self.sample as usize)?,
            };
            let offset = base.checked_add(self.offset_in_chunk)?;
            self.in_chunk += 1;
            self.offset_in_chunk = self.offset_in_chunk.checked_add(u64::from(size))?;
            self.sample += 1;
            return Some((offset, size));
        }
    }
}

fn truncated() -> String {
    "文件不完整：内容在中途截断（可能上传或拷贝未完成）".to_string()
}

fn corrupt(what: &str) -> String {
    format!("文件结构损坏：{what}")
}

struct BoxHeader {
    kind: [u8; 4],
    start: u64,
    size: u64,
}

/// Reads the box header at `pos`. `Ok(None)` at the end of the file (or at zero padding).
fn header<R: Read + Seek>(r: &mut R, pos: u64, len: u64) -> Result<Option<BoxHeader>, String> {
    let left = len - pos;
    if left == 0 {
        return Ok(None);
    }
    r.seek(SeekFrom::Start(pos))
        .map_err(|e| format!("读取文件失败：{e}"))?;
    if left < 8 {
        let mut tail = vec![0u8; left as usize];
        r.read_exact(&mut tail).map_err(|_| truncated())?;
        return if tail.iter().all(|&b| b == 0) {
            Ok(None)
        } else {
            Err(truncated())
        };
    }
    let mut h = [0u8; 8];
    r.read_exact(&mut h).map_err(|_| truncated())?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let kind = [h[4], h[5], h[6], h[7]];
    if size32 == 0 && kind == [0; 4] {
        return Ok(None);
    }
    if !kind.iter().all(|b| (0x20..=0x7E).contains(b) || *b == 0xA9) {
        return Err(corrupt("出现无法识别的数据块"));
    }
    let size = match size32 {
        0 => left,
        1 => {
            let mut big = [0u8; 8];
            r.read_exact(&mut big).map_err(|_| truncated())?;
            let size = u64::from_be_bytes(big);
            if size < 16 {
                return Err(corrupt("数据块长度无效"));
            }
            size
        }
        n if n < 8 => return Err(corrupt("数据块长度无效")),
        n => u64::from(n),
    };
    if size > left {
        return Err(truncated());
    }
    Ok(Some(BoxHeader {
        kind,
        start: pos,
        size,
    }))
}

fn read_box<R: Read + Seek>(r: &mut R, b: &BoxHeader) -> Result<Vec<u8>, String> {
    r.seek(SeekFrom::Start(b.start))
        .map_err(|e| format!("读取文件失败：{e}"))?;
    // `size` was checked against the file length and the caller's cap.
    let mut bytes = vec![0u8; usize::try_from(b.size).map_err(|_| corrupt("数据块过大"))?];
    r.read_exact(&mut bytes).map_err(|_| truncated())?;
    Ok(bytes)
}

/// The boxes read under each container; every other box is renamed `free` before `mp4-atom`
/// sees it. Less hostile input reaches the decoder, and some tables it would otherwise decode
/// (e.g. `sgpd` entries of zero bytes) can make it allocate far more than the box's size.
fn kept_children(parent: &[u8; 4]) -> &'static [&'static [u8; 4]] {
    match parent {
        b"moov" => &[b"mvhd", b"trak", b"mvex"],
        b"trak" => &[b"tkhd", b"mdia"],
        b"mdia" => &[b"mdhd", b"hdlr", b"minf"],
        b"minf" => &[
            b"vmhd", b"smhd", b"nmhd", b"sthd", b"hmhd", b"dinf", b"stbl",
        ],
        b"stbl" => &[b"stsd", b"stts", b"stsc", b"stsz", b"stco", b"co64"],
        b"mvex" => &[b"mehd", b"trex"],
        b"moof" => &[b"mfhd", b"traf"],
        b"traf" => &[b"tfhd", b"tfdt", b"trun"],
        _ => &[],
    }
}

/// Renames unread children of the container body `body` (of type `parent`) to `free`,
/// descending into kept containers. Sizes are checked against the parent.
fn keep_only_needed(body: &mut [u8], parent: &[u8; 4]) -> Result<(), String> {
    let mut pos = 0usize;
    while body.len() - pos >= 8 {
        let rest = body.len() - pos;
        let size32 = u32::from_be_bytes([body[pos], body[pos + 1], body[pos + 2], body[pos + 3]]);
        let kind = [body[pos + 4], body[pos + 5], body[pos + 6], body[pos + 7]];
        let (size, header) = match size32 {
            0 => (rest, 8),
            1 => {
                let big = body
                    .get(pos + 8..pos + 16)
                    .ok_or_else(|| corrupt("数据块长度无效"))?;
                let mut b = [0u8; 8];
                b.copy_from_slice(big);
                let size = usize::try_from(u64::from_be_bytes(b))
                    .map_err(|_| corrupt("数据块长度无效"))?;
                (size, 16)
            }
            n => (n as usize, 8),
        };
        if size < header || size > rest {
            return Err(corrupt("数据块长度与上层不符"));
        }
        if kept_children(parent).contains(&&kind) {
            if !kept_children(&kind).is_empty() {
                keep_only_needed(&mut body[pos + header..pos + size], &kind)?;
            }
        } else {
            body[pos + 4..pos + 8].copy_from_slice(b"free");
        }
        pos += size;
    }
    Ok(())
}

/// Reads a container box, keeps only what Wangju reads, and decodes it.
fn decode_container<T: Decode, R: Read + Seek>(r: &mut R, b: &BoxHeader) -> Result<T, String> {
    let mut bytes = read_box(r, b)?;
    let header = if u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) == 1 {
        16
    } else {
        8
    };
    keep_only_needed(&mut bytes[header..], &b.kind)?;
    let what = String::from_utf8_lossy(&b.kind).to_string();
    T::decode(&mut bytes.as_slice()).map_err(|e| corrupt(&format!("{what} 无法解析（{e}）")))
}

pub(super) fn measure<R: Read + Seek>(r: &mut R, len: u64) -> Result<Movie, String> {
    let mut pos = 0u64;
    let mut boxes = 0u32;
    let mut moov: Option<Moov> = None;
    let mut moofs: Vec<(u64, u64)> = Vec::new();
    let mut has_mdat = false;
    while let Some(b) = header(r, pos, len)? {
        boxes += 1;
        if boxes > MAX_TOP_BOXES {
            return Err(corrupt("数据块数量异常"));
        }
        match &b.kind {
            b"moov" => {
                if moov.is_some() {
                    return Err(corrupt("影片信息（moov）重复出现"));
                }
                if b.size > MAX_MOOV {
                    return Err(corrupt("影片信息（moov）大得不合常理"));
                }
                moov = Some(decode_container::<Moov, _>(r, &b)?);
            }
            b"moof" => moofs.push((b.start, b.size)),
            b"mdat" => has_mdat = true,
            _ => {}
        }
        // Never read: `mdat` and everything else is skipped by its declared size.
        pos = b.start + b.size;
    }
    let Some(moov) = moov else {
        return Err(
            "文件不完整：缺少影片信息（moov），可能录制或上传中断，或文件已损坏".to_string(),
        );
    };
    if !has_mdat && moov.trak.iter().any(has_samples) {
        return Err(truncated());
    }
    for trak in &moov.trak {
        check_tables(trak, len)?;
    }
    let mut movie = Movie::default();
    let movie_scale = moov.mvhd.timescale;
    movie.duration_s = seconds(moov.mvhd.duration, movie_scale);

    let mut video_trak = None;
    let mut audio_trak = None;
    for trak in &moov.trak {
        let handler: [u8; 4] = trak.mdia.hdlr.handler.into();
        let entry = trak.mdia.minf.stbl.stsd.codecs.first();
        let codec = entry.map(codec_name).unwrap_or_else(|| fourcc(&handler));
        match &handler {
            b"vide" => {
                let better = match video_trak {
                    None => true,
                    // The first enabled picture track is the film; others are cover art etc.
                    Some(t) => !is_enabled(t) && is_enabled(trak),
                };
                if better {
                    video_trak = Some(trak);
                    movie.video = Some(video(trak, entry, codec));
                    movie.video_feed = entry
                        .filter(|_| moov.mvex.is_none())
                        .and_then(|c| VideoFeed::from_tables(trak, c));
                }
            }
            b"soun" if movie.audio.is_none() => {
                audio_trak = Some(trak);
                if moov.mvex.is_none() {
                    movie.audio_feed = entry.and_then(|c| AudioFeed::from_tables(trak, c));
                }
                let a = entry.and_then(|c| c.audio());
                movie.audio = Some(AudioTrack {
                    codec,
                    sample_rate: a
                        .map(|a| u32::from(a.sample_rate.integer()))
                        .filter(|r| *r > 0),
                    channels: entry
                        .and_then(aac_channels)
                        .or(a.map(|a| a.channel_count))
                        .filter(|c| *c > 0),
                    level: None,
                });
            }
            _ if is_subtitle(&handler, &codec) => movie.subtitles.push(SubtitleTrack {
                codec,
                language: Some(trak.mdia.mdhd.language.clone())
                    .filter(|l| !l.is_empty() && l != "und"),
            }),
            _ => {}
        }
    }

    let needs_duration = movie.duration_s.is_none_or(|d| d <= 0.0);
    if let Some(mvex) = &moov.mvex {
        let mehd = mvex
            .mehd
            .as_ref()
            .and_then(|m| seconds(m.fragment_duration, moov.mvhd.timescale));
        // Timed by the picture track if there is one, else the first.
        let timed = video_trak.or_else(|| moov.trak.first());
        let timed = timed.filter(|_| needs_duration && mehd.is_none());
        let audio = audio_trak.and_then(|t| {
            let entry = t.mdia.minf.stbl.stsd.codecs.first()?;
            Some((t, feed_codec(entry)?, sample_rate(entry)))
        });
        if needs_duration {
            movie.duration_s = mehd;
        }
        if timed.is_some() || audio.is_some() {
            let walked = walk_fragments(r, &moov, &moofs, timed, audio.as_ref().map(|(t, ..)| *t))?;
            if let Some(t) = timed {
                movie.duration_s = seconds(walked.ticks, t.mdia.mdhd.timescale);
            }
            if let Some((_, codec, sample_rate)) = audio.clone()
                && !walked.audio_samples.is_empty()
            {
                movie.audio_feed = Some(AudioFeed {
                    codec,
                    sample_rate,
                    layout: Layout::Listed(walked.audio_samples),
                });
            }
        }
    }
    if movie.duration_s.is_none_or(|d| d <= 0.0) {
        movie.duration_s = moov
            .trak
            .iter()
            .filter_map(|t| seconds(t.mdia.mdhd.duration, t.mdia.mdhd.timescale))
            .fold(None, |max: Option<f64>, d| {
                Some(max.map_or(d, |m| m.max(d)))
            });
    }
    movie.duration_s = movie
        .duration_s
        .filter(|d| *d > 0.0)
        .map(|d| (d * 1000.0).round() / 1000.0);
    Ok(movie)
}

fn is_enabled(trak: &mp4_atom::Trak) -> bool {
    trak.tkhd.enabled
}

fn has_samples(trak: &mp4_atom::Trak) -> bool {
    match &trak.mdia.minf.stbl.stsz.samples {
        StszSamples::Identical { count, .. } => *count > 0,
        StszSamples::Different { sizes } => !sizes.is_empty(),
    }
}

/// Sample sizes and chunk offsets must fit the file: a forged table would make the decoder
/// allocate or seek wildly, and offsets past the end mean the data was cut off.
fn check_tables(trak: &mp4_atom::Trak, len: u64) -> Result<(), String> {
    let stbl = &trak.mdia.minf.stbl;
    let largest = match &stbl.stsz.samples {
        StszSamples::Identical { size, .. } => *size,
        StszSamples::Different { sizes } => sizes.iter().copied().max().unwrap_or(0),
    };
    if largest > MAX_SAMPLE || u64::from(largest) > len {
        return Err(corrupt("样本大小表异常"));
    }
    let last_offset = stbl
        .stco
        .iter()
        .flat_map(|t| t.entries.iter().map(|&o| u64::from(o)))
        .chain(stbl.co64.iter().flat_map(|t| t.entries.iter().copied()))
        .max();
    if last_offset.is_some_and(|o| o >= len) {
        return Err(truncated());
    }
    Ok(())
}

/// Seconds from a duration in timescale units; the all-ones value means "unknown".
fn seconds(duration: u64, timescale: u32) -> Option<f64> {
    if timescale == 0 || duration == 0 || duration == u64::MAX || duration == u64::from(u32::MAX) {
        return None;
    }
    Some(duration as f64 / f64::from(timescale))
}

/// What the fragments of a fragmented file hold.
#[derive(Default)]
struct Fragments {
    /// Summed sample durations of the timed track, in its media timescale.
    ticks: u64,
    /// (file offset, size) of the audio track's samples, at most `MAX_LISTED`.
    audio_samples: Vec<(u64, u32)>,
}

/// Audio samples listed from fragments; the level check never decodes more packets anyway.
const MAX_LISTED: usize = 60_000;

/// Walks the fragment headers (`moof`/`traf`/`trun`, with `tfhd` and `trex` defaults): adds up
/// the durations of `timed` and lists where the samples of `audio` are.
fn walk_fragments<R: Read + Seek>(
    r: &mut R,
    moov: &Moov,
    moofs: &[(u64, u64)],
    timed: Option<&mp4_atom::Trak>,
    audio: Option<&mp4_atom::Trak>,
) -> Result<Fragments, String> {
    let trex = |trak: Option<&mp4_atom::Trak>| {
        let id = trak.map(|t| t.tkhd.track_id)?;
        moov.mvex
            .as_ref()?
            .trex
            .iter()
            .find(|t| t.track_id == id)
            .cloned()
    };
    let (timed_trex, audio_trex) = (trex(timed), trex(audio));
    let timed_id = timed.map(|t| t.tkhd.track_id);
    let audio_id = audio.map(|t| t.tkhd.track_id);
    let mut out = Fragments::default();
    let mut read = 0u64;
    for &(start, size) in moofs {
        if size > MAX_MOOF {
            return Err(corrupt("片段信息（moof）大得不合常理"));
        }
        read += size;
        if read > MAX_MOOF_TOTAL {
            break;
        }
        let moof: Moof = decode_container(
            r,
            &BoxHeader {
                kind: *b"moof",
                start,
                size,
            },
        )?;
        for traf in &moof.traf {
            let id = Some(traf.tfhd.track_id);
            if id == timed_id {
                let default = traf
                    .tfhd
                    .default_sample_duration
                    .or(timed_trex.as_ref().map(|t| t.default_sample_duration))
                    .unwrap_or(0);
                for trun in &traf.trun {
                    let ticks: u64 = match &trun.samples {
                        // A count from the file: multiply, never iterate.
                        TrunSamples::Inherited { count, .. } => {
                            u64::from(*count).saturating_mul(u64::from(default))
                        }
                        explicit => explicit
                            .iter()
                            .map(|s| u64::from(s.duration.unwrap_or(default)))
                            .sum(),
                    };
                    out.ticks = out.ticks.saturating_add(ticks);
                }
            }
            if id == audio_id && out.audio_samples.len() < MAX_LISTED {
                let default = traf
                    .tfhd
                    .default_sample_size
                    .or(audio_trex.as_ref().map(|t| t.default_sample_size))
                    .unwrap_or(0);
                // ffmpeg and most muxers set default-base-is-moof; an explicit base wins.
                let base = traf.tfhd.base_data_offset.unwrap_or(start);
                let mut pos = base;
                for trun in &traf.trun {
                    if let Some(offset) = trun.data_offset {
                        pos = base.saturating_add_signed(i64::from(offset));
                    }
                    for sample in &trun.samples {
                        if out.audio_samples.len() >= MAX_LISTED {
                            break;
                        }
                        let size = sample.size.unwrap_or(default);
                        out.audio_samples.push((pos, size));
                        pos = pos.saturating_add(u64::from(size));
                    }
                }
            }
        }
    }
    Ok(out)
}

fn video(trak: &mp4_atom::Trak, entry: Option<&Codec>, codec: String) -> VideoTrack {
    let visual = entry.and_then(|c| c.visual());
    let (mut w, mut h) = visual.map_or((0, 0), |v| (u32::from(v.width), u32::from(v.height)));
    if w == 0 || h == 0 {
        w = u32::from(trak.tkhd.width.integer());
        h = u32::from(trak.tkhd.height.integer());
    }
    let pasp = entry
        .and_then(pasp)
        .filter(|(hs, vs)| *hs > 0 && *vs > 0 && hs != vs);
    let rotation = rotation(&trak.tkhd.matrix);
    let (display_width, display_height) = display_size(w, h, pasp, rotation);
    VideoTrack {
        codec,
        profile: entry.and_then(h264_profile),
        coded_width: w,
        coded_height: h,
        pixel_aspect: pasp,
        rotation,
        display_width,
        display_height,
    }
}

/// Channels from the AAC configuration; the sample entry's count is often a placeholder 2.
fn aac_channels(codec: &Codec) -> Option<u16> {
    let Codec::Mp4a(m) = codec else {
        return None;
    };
    match m.esds.es_desc.dec_config.dec_specific.as_ref()?.chan_conf {
        n @ 1..=6 => Some(u16::from(n)),
        7 => Some(8),
        _ => None,
    }
}

fn h264_profile(codec: &Codec) -> Option<String> {
    let avcc = match codec {
        Codec::Avc1(c) => &c.avcc,
        Codec::Avc3(c) => &c.avcc,
        _ => return None,
    };
    Some(
        match avcc.avc_profile_indication {
            66 => "Baseline",
            77 => "Main",
            88 => "Extended",
            100 => "High",
            110 => "High 10",
            122 => "High 4:2:2",
            244 => "High 4:4:4 Predictive",
            44 => "CAVLC 4:4:4 Intra",
            other => return Some(format!("profile {other}")),
        }
        .to_string(),
    )
}

fn pasp(codec: &Codec) -> Option<(u32, u32)> {
    let p = match codec {
        Codec::Avc1(c) => c.pasp.as_ref(),
        Codec::Avc3(c) => c.pasp.as_ref(),
        Codec::Hev1(c) => c.pasp.as_ref(),
        Codec::Hvc1(c) => c.pasp.as_ref(),
        Codec::Vp08(c) => c.pasp.as_ref(),
        Codec::Vp09(c) => c.pasp.as_ref(),
        Codec::Av01(c) => c.pasp.as_ref(),
        Codec::Jpeg(c) => c.pasp.as_ref(),
        Codec::Uncv(c) => c.pasp.as_ref(),
        _ => None,
    }?;
    Some((p.h_spacing, p.v_spacing))
}

/// Clockwise rotation the display matrix applies, to the nearest quarter turn.
pub(super) fn rotation(m: &Matrix) -> u16 {
    let (a, b) = (i64::from(m.a), i64::from(m.b));
    if b.abs() > a.abs() {
        if b > 0 { 90 } else { 270 }
    } else if a < 0 {
        180
    } else {
        0
    }
}

/// Size as shown: coded size stretched by the pixel aspect ratio, then turned.
pub(super) fn display_size(w: u32, h: u32, pasp: Option<(u32, u32)>, rotation: u16) -> (u32, u32) {
    let w = match pasp {
        Some((hs, vs)) if hs > 0 && vs > 0 => {
            let stretched = (f64::from(w) * f64::from(hs) / f64::from(vs)).round();
            if stretched >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                stretched as u32
            }
        }
        _ => w,
    };
    if rotation == 90 || rotation == 270 {
        (h, w)
    } else {
        (w, h)
    }
}

fn is_subtitle(handler: &[u8; 4], codec: &str) -> bool {
    matches!(handler, b"sbtl" | b"subt" | b"text" | b"clcp")
        || matches!(codec, "tx3g" | "wvtt" | "stpp" | "c608" | "c708")
}

fn fourcc(b: &[u8; 4]) -> String {
    b.iter()
        .map(|&c| {
            if (0x20..=0x7E).contains(&c) {
                c as char
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The sample entry type, e.g. `avc1`.
fn codec_name(codec: &Codec) -> String {
    let name = match codec {
        Codec::Avc1(_) => "avc1",
        Codec::Avc3(_) => "avc3",
        Codec::Jpeg(_) => "jpeg",
        Codec::Hev1(_) => "hev1",
        Codec::Hvc1(_) => "hvc1",
        Codec::Vp08(_) => "vp08",
        Codec::Vp09(_) => "vp09",
        Codec::Av01(_) => "av01",
        Codec::Mp4a(_) => "mp4a",
        Codec::Mp3(_) => "mp3",
        Codec::Tx3g(_) => "tx3g",
        Codec::Opus(_) => "opus",
        Codec::Uncv(_) => "uncv",
        Codec::Flac(_) => "flac",
        Codec::Ac3(_) => "ac-3",
        Codec::Eac3(_) => "ec-3",
        Codec::Ipcm(_) => "ipcm",
        Codec::Fpcm(_) => "fpcm",
        Codec::Sowt(_) => "sowt",
        Codec::Twos(_) => "twos",
        Codec::Lpcm(_) => "lpcm",
        Codec::In24(_) => "in24",
        Codec::In32(_) => "in32",
        Codec::Fl32(_) => "fl32",
        Codec::Fl64(_) => "fl64",
        Codec::S16l(_) => "s16l",
        Codec::Wvtt(_) => "wvtt",
        Codec::Samr(_) => "samr",
        Codec::Unknown(cc, _) => return fourcc(&(*cc).into()),
        _ => "other",
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(a: i32, b: i32, c: i32, d: i32) -> Matrix {
        Matrix {
            a,
            b,
            u: 0,
            c,
            d,
            v: 0,
            x: 0,
            y: 0,
            w: 0x4000_0000,
        }
    }

    #[test]
    fn rotation_from_the_display_matrix() {
        let one = 0x1_0000;
        assert_eq!(rotation(&matrix(one, 0, 0, one)), 0);
        assert_eq!(rotation(&matrix(0, one, -one, 0)), 90);
        assert_eq!(rotation(&matrix(-one, 0, 0, -one)), 180);
        assert_eq!(rotation(&matrix(0, -one, one, 0)), 270);
    }

    #[test]
    fn display_size_applies_pixel_aspect_then_rotation() {
        assert_eq!(display_size(1280, 720, None, 0), (1280, 720));
        assert_eq!(display_size(1280, 720, None, 90), (720, 1280));
        assert_eq!(display_size(960, 720, Some((4, 3)), 0), (1280, 720));
        assert_eq!(display_size(1440, 1080, Some((4, 3)), 270), (1080, 1920));
        assert_eq!(display_size(2, 2, Some((u32::MAX, 1)), 0), (u32::MAX, 2));
    }

    #[test]
    fn walking_stops_at_a_cut() {
        let mut file = Vec::new();
        file.extend_from_slice(&24u32.to_be_bytes());
        file.extend_from_slice(b"ftypisom\0\0\x02\0isommp41");
        // An mdat that claims more bytes than there are.
        file.extend_from_slice(&1000u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&[0u8; 100]);
        let len = file.len() as u64;
        let err = measure(&mut std::io::Cursor::new(file), len).expect_err("truncated");
        assert!(err.contains("不完整"), "{err}");
    }

    #[test]
    fn missing_movie_box_is_damage() {
        let mut file = Vec::new();
        file.extend_from_slice(&24u32.to_be_bytes());
        file.extend_from_slice(b"ftypisom\0\0\x02\0isommp41");
        file.extend_from_slice(&16u32.to_be_bytes());
        file.extend_from_slice(b"mdat01234567");
        let len = file.len() as u64;
        let err = measure(&mut std::io::Cursor::new(file), len).expect_err("no moov");
        assert!(err.contains("moov"), "{err}");
    }
}
