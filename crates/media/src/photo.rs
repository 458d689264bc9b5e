//! Photos for activity reports: recognised by content (JPEG, PNG, WebP), refused before
//! decoding when the header promises a pixel flood, decoded under memory limits, turned
//! upright (EXIF orientation), and re-encoded — so the kept copy carries no metadata at all —
//! with a thumbnail and a perceptual hash for spotting reuse.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Largest photo file accepted.
pub const MAX_BYTES: usize = 15 * 1024 * 1024;
/// Longest side and pixel count a photo may have (a 48-megapixel phone photo fits).
const MAX_SIDE: u32 = 12_000;
const MAX_PIXELS: u64 = 50_000_000;
/// The kept copy's longest side; a report needs no more.
const KEEP_SIDE: u32 = 2560;
const THUMB_SIDE: u32 = 480;
/// Hashes this many bits apart or fewer are "the same picture" (recompressed, resized).
pub const NEAR: u32 = 10;

pub struct Prepared {
    pub image: Vec<u8>,
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub dhash: u64,
}

/// Why a file is not accepted, in Chinese with what to do.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum PhotoError {
    #[error("不是 JPEG、PNG 或 WebP 图片（按文件内容判断，与扩展名无关）：请上传照片")]
    NotAnImage,
    #[error("照片文件 {0:.1} MB，超过 15 MB：请压缩后再上传")]
    TooLarge(f64),
    #[error(
        "图片尺寸 {0}×{1} 过大（最长边不超过 12000 像素、总像素不超过 5000 万）：请缩小后再上传"
    )]
    TooManyPixels(u32, u32),
    #[error("图片文件损坏或不完整，无法读取：请重新导出后上传")]
    Damaged,
}

/// The decoder for what the content is (the crate's one sniffer), if it is a photo format
/// reports take.
fn format_of(bytes: &[u8]) -> Option<ImageFormat> {
    match crate::sniff::detect(bytes) {
        crate::sniff::Format::Jpeg => Some(ImageFormat::Jpeg),
        crate::sniff::Format::Png => Some(ImageFormat::Png),
        crate::sniff::Format::Webp => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Checks and converts one uploaded photo. CPU-bound: call it on a blocking thread.
pub fn prepare(bytes: &[u8]) -> Result<Prepared, PhotoError> {
    if bytes.len() > MAX_BYTES {
        return Err(PhotoError::TooLarge(bytes.len() as f64 / 1024.0 / 1024.0));
    }
    let format = format_of(bytes).ok_or(PhotoError::NotAnImage)?;
    // The header's promise, read before any pixel is decoded.
    let size = imagesize::blob_size(bytes).map_err(|_| PhotoError::Damaged)?;
    let (w, h) = (
        u32::try_from(size.width).unwrap_or(u32::MAX),
        u32::try_from(size.height).unwrap_or(u32::MAX),
    );
    if w == 0 || h == 0 {
        return Err(PhotoError::Damaged);
    }
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(PhotoError::TooManyPixels(w, h));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| PhotoError::Damaged)?;
    let orientation = decoder.orientation().map_err(|_| PhotoError::Damaged)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| PhotoError::Damaged)?;
    img.apply_orientation(orientation);
    let kept = if img.width().max(img.height()) > KEEP_SIDE {
        img.resize(KEEP_SIDE, KEEP_SIDE, FilterType::Triangle)
    } else {
        img
    };
    let thumb = kept.thumbnail(THUMB_SIDE, THUMB_SIDE);
    Ok(Prepared {
        image: jpeg(&kept)?,
        thumb: jpeg(&thumb)?,
        width: kept.width(),
        height: kept.height(),
        dhash: dhash(&kept),
    })
}

fn jpeg(img: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img.to_rgb8())
        .map_err(|_| PhotoError::Damaged)?;
    Ok(out)
}

/// The difference hash: shrink to 9×8 grey, one bit per horizontal neighbour pair (is the left
/// one brighter?). Robust to recompression, resizing and small colour changes.
pub fn dhash(img: &DynamicImage) -> u64 {
    let small = img.resize_exact(9, 8, FilterType::Triangle).to_luma8();
    let mut hash = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            let bit = small.get_pixel(x, y).0[0] > small.get_pixel(x + 1, y).0[0];
            hash = (hash << 1) | u64::from(bit);
        }
    }
    hash
}

pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A photo-like picture: gradients and a few shapes.
    fn scene(w: u32, h: u32, shift: u8) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            let r = ((x * 255) / w) as u8;
            let g = ((y * 255) / h) as u8;
            let b = if (x / 40 + y / 40) % 2 == 0 {
                200
            } else {
                40u8.wrapping_add(shift)
            };
            Rgb([r, g, b])
        }))
    }

    fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).expect("encode");
        out.into_inner()
    }

    /// Inserts an EXIF segment with a GPS-looking marker right after the JPEG's SOI.
    fn with_exif(jpeg: &[u8]) -> Vec<u8> {
        let payload = b"Exif\0\0MM\0*\0\0\0\x08GPS 39.1234N 117.5678E Secret Phone";
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn the_kept_copy_has_no_metadata() {
        let original = with_exif(&encode(&scene(800, 600, 0), ImageFormat::Jpeg));
        assert!(String::from_utf8_lossy(&original).contains("Secret Phone"));
        let p = prepare(&original).expect("a photo");
        for copy in [&p.image, &p.thumb] {
            let text = String::from_utf8_lossy(copy);
            assert!(
                !text.contains("Secret") && !text.contains("39.1234") && !text.contains("Exif")
            );
        }
        assert_eq!((p.width, p.height), (800, 600));
    }

    #[test]
    fn content_decides_not_the_name() {
        assert_eq!(
            prepare(b"<html><script>alert(1)</script>")
                .err()
                .expect("refused"),
            PhotoError::NotAnImage
        );
        assert_eq!(
            prepare(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
                .err()
                .expect("refused"),
            PhotoError::NotAnImage
        );
        for format in [ImageFormat::Png, ImageFormat::WebP] {
            assert!(
                prepare(&encode(&scene(64, 48, 0), format)).is_ok(),
                "{format:?}"
            );
        }
    }

    #[test]
    fn pixel_floods_are_refused_before_decoding() {
        // A PNG header claiming 100000×100000 pixels, with no pixel data behind it.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            prepare(&png).err().expect("refused"),
            PhotoError::TooManyPixels(100_000, 100_000)
        );
        // 12000×5000 (60 million pixels, about 240 MB decoded) is past the cap too.
        let mut wide = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        wide.extend_from_slice(&12_000u32.to_be_bytes());
        wide.extend_from_slice(&5_000u32.to_be_bytes());
        wide.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            prepare(&wide).err().expect("refused"),
            PhotoError::TooManyPixels(12_000, 5_000)
        );
    }

    #[test]
    fn truncated_files_are_damaged() {
        // Cut inside the headers: nothing to show. (A JPEG cut later in its scan decodes with
        // the missing part grey, as browsers show it; that is the author's problem to see.)
        let jpeg = encode(&scene(320, 240, 0), ImageFormat::Jpeg);
        assert!(matches!(prepare(&jpeg[..120]), Err(PhotoError::Damaged)));
        let png = encode(&scene(320, 240, 0), ImageFormat::Png);
        assert!(matches!(
            prepare(&png[..png.len() / 2]),
            Err(PhotoError::Damaged)
        ));
    }

    #[test]
    fn reuse_survives_resizing_and_recompression_but_different_pictures_differ() {
        let a = scene(1200, 900, 0);
        let resized = encode(&a.resize(600, 450, FilterType::Lanczos3), ImageFormat::Jpeg);
        let original = prepare(&encode(&a, ImageFormat::Png)).expect("photo");
        let copy = prepare(&resized).expect("photo");
        assert!(
            distance(original.dhash, copy.dhash) <= NEAR,
            "{}",
            distance(original.dhash, copy.dhash)
        );
        let other = DynamicImage::ImageRgb8(RgbImage::from_fn(1200, 900, |x, y| {
            let v = if (x / 150) % 2 == (y / 150) % 2 {
                230
            } else {
                20
            };
            Rgb([v, 255 - v, (x % 255) as u8])
        }));
        let other = prepare(&encode(&other, ImageFormat::Jpeg)).expect("photo");
        assert!(distance(original.dhash, other.dhash) > NEAR);
    }
}
