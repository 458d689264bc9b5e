//! A video's poster image: the first picture of a plain MP4's H.264 track, decoded by OpenH264
//! and written as a JPEG no wider than [`POSTER_WIDTH`]. The showcase shows it before the video
//! plays and shares it as the page's image.
//!
//! The sample tables come from the probe's own reader (every size checked against the file);
//! the decoder is C++, so Wangju runs this in a child process (`wangju media poster`) with a
//! time limit: a stream that crashes or hangs the decoder costs that one poster, never the
//! server.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use image::{RgbImage, imageops::FilterType};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;

use crate::isobmff;

/// Widest poster written: a phone screen's width at 2x is plenty for a preview.
pub const POSTER_WIDTH: u32 = 720;
/// Samples fed to the decoder before giving up on a picture (the first is a key frame in any
/// stream a camera or editor writes).
const MAX_SAMPLES: usize = 30;
/// Largest picture decoded (4096 × 2304, H.264 level 5.1's frame size).
const MAX_PIXELS: usize = 4096 * 2304;

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("读取视频失败：{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Damaged(String),
    #[error("没有可解码的 H.264 画面轨道（仅支持普通 MP4 中的 H.264 视频）")]
    NoH264,
    #[error("解码画面失败：{0}")]
    Decode(String),
    #[error("画面尺寸异常")]
    Size,
}

/// The poster of the MP4 at `path` as JPEG bytes.
pub fn poster_jpeg(path: &Path) -> Result<Vec<u8>, PosterError> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut reader = BufReader::new(file);
    let movie = isobmff::measure(&mut reader, len).map_err(PosterError::Damaged)?;
    let feed = movie.video_feed.ok_or(PosterError::NoH264)?;
    // Shown as players show it: turned by the track's rotation, stretched to the display size.
    let shown = movie
        .video
        .as_ref()
        .map(|v| (v.rotation, v.display_width, v.display_height))
        .unwrap_or((0, 0, 0));
    if !matches!(feed.length_size, 1 | 2 | 4) {
        return Err(PosterError::Damaged("NAL 长度字段无效".into()));
    }
    let mut decoder = Decoder::new().map_err(|e| PosterError::Decode(e.to_string()))?;
    let start = [0u8, 0, 0, 1];
    for set in feed.sps.iter().chain(&feed.pps) {
        let nal = [&start[..], set].concat();
        // Parameter sets produce no picture; an error here shows on the first frame.
        let _ = decoder.decode(&nal);
    }
    let mut sample = Vec::new();
    for (offset, size) in feed.samples().take(MAX_SAMPLES) {
        // Offsets and sizes were checked against the file by the probe's reader.
        sample.resize(size as usize, 0);
        reader.seek(SeekFrom::Start(offset))?;
        reader.read_exact(&mut sample)?;
        for nal in nal_units(&sample, feed.length_size) {
            let annex_b = [&start[..], nal].concat();
            if let Ok(Some(yuv)) = decoder.decode(&annex_b) {
                return encode(&yuv, shown);
            }
        }
    }
    let held = decoder
        .flush_remaining()
        .map_err(|e| PosterError::Decode(e.to_string()))?;
    match held.first() {
        Some(yuv) => encode(yuv, shown),
        None => Err(PosterError::Decode("前几帧中没有完整画面".into())),
    }
}

/// The NAL units of one sample, each preceded by its `length_size`-byte length; a length past
/// the sample's end stops the walk.
fn nal_units(sample: &[u8], length_size: u8) -> Vec<&[u8]> {
    let n = usize::from(length_size);
    let mut units = Vec::new();
    let mut rest = sample;
    while rest.len() > n {
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        let Some(unit) = rest.get(n..n + len) else {
            break;
        };
        if !unit.is_empty() {
            units.push(unit);
        }
        rest = &rest[n + len..];
    }
    units
}

/// The picture as JPEG, turned by `rotation` (clockwise degrees), scaled to the display
/// aspect (non-square pixels) and to at most [`POSTER_WIDTH`] wide.
fn encode(
    yuv: &openh264::decoder::DecodedYUV<'_>,
    (rotation, display_w, display_h): (u16, u32, u32),
) -> Result<Vec<u8>, PosterError> {
    let (width, height) = yuv.dimensions();
    if width == 0 || height == 0 || width.saturating_mul(height) > MAX_PIXELS {
        return Err(PosterError::Size);
    }
    let mut rgb = vec![0u8; yuv.rgb8_len()];
    yuv.write_rgb8(&mut rgb);
    let (w, h) = (
        u32::try_from(width).map_err(|_| PosterError::Size)?,
        u32::try_from(height).map_err(|_| PosterError::Size)?,
    );
    let mut picture = RgbImage::from_raw(w, h, rgb).ok_or(PosterError::Size)?;
    picture = match rotation {
        90 => image::imageops::rotate90(&picture),
        180 => image::imageops::rotate180(&picture),
        270 => image::imageops::rotate270(&picture),
        _ => picture,
    };
    let (w, h) = picture.dimensions();
    // The display size's aspect when the probe measured one (non-square pixels), else as coded.
    let (aw, ah) = if display_w > 0 && display_h > 0 {
        (u64::from(display_w), u64::from(display_h))
    } else {
        (u64::from(w), u64::from(h))
    };
    let width = u64::from(w.min(POSTER_WIDTH));
    let height = (width * ah / aw).clamp(1, 4 * u64::from(POSTER_WIDTH));
    let height = u32::try_from(height).map_err(|_| PosterError::Size)?;
    let width = u32::try_from(width).map_err(|_| PosterError::Size)?;
    if (width, height) != (w, h) {
        picture = image::imageops::resize(&picture, width, height, FilterType::Triangle);
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
        .encode_image(&picture)
        .map_err(|e| PosterError::Decode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nal_units_stop_at_a_length_past_the_end() {
        let sample = [0, 0, 0, 2, 0x65, 0xAA, 0, 0, 0, 9, 0x41];
        assert_eq!(nal_units(&sample, 4), vec![&[0x65, 0xAA][..]]);
        assert!(nal_units(&[0xFF], 4).is_empty());
        assert_eq!(nal_units(&[1, 0x09, 2, 0x06, 0x05], 1).len(), 2);
    }

    fn poster_of(bytes: &[u8]) -> Result<Vec<u8>, PosterError> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.mp4");
        std::fs::write(&path, bytes).expect("write");
        poster_jpeg(&path)
    }

    #[test]
    fn a_phone_video_turned_on_its_side_gets_an_upright_poster() {
        // 64×36 H.264 High 4:2:0, stored landscape with a 90° display matrix (as phones write).
        let jpeg = poster_of(include_bytes!("testdata/rotated-h264.mp4")).expect("poster");
        let picture = image::load_from_memory(&jpeg).expect("a JPEG");
        assert_eq!((picture.width(), picture.height()), (36, 64));
    }

    #[test]
    fn files_without_a_decodable_picture_have_no_poster() {
        assert!(matches!(
            poster_of(b"not a movie at all"),
            Err(PosterError::Damaged(_))
        ));
        // H.264 4:4:4, which OpenH264 does not decode: refused, not a garbled picture.
        assert!(poster_of(include_bytes!("testdata/tiny.mp4")).is_err());
        // Cut off mid-way (an interrupted copy): its movie box is gone.
        let whole = include_bytes!("testdata/rotated-h264.mp4");
        assert!(matches!(
            poster_of(&whole[..whole.len() / 2]),
            Err(PosterError::Damaged(_))
        ));
    }
}
