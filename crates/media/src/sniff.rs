//! What a file is, judged from its first bytes (never from its name).

use serde::{Serialize, Serializer};

/// A file format as far as the rules care. `code()` is the name campaign files use in
/// `format.allowed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ISO base media file with an MP4 brand (isom, mp41, mp42, avc1, iso2…, dash, …).
    Mp4,
    /// ISO base media file branded as an audio-only MPEG-4 file (`M4A `).
    M4a,
    /// QuickTime (`qt  ` brand, or classic QuickTime without `ftyp`).
    Mov,
    /// 3GPP/3GPP2 (ISO base media with a `3gp*`/`3g2*` brand).
    ThreeGp,
    /// HEIF/HEIC/AVIF still images (ISO base media with an image brand).
    Heif,
    /// ISO base media with a brand Wangju does not know.
    OtherIsoMedia,
    Matroska,
    Webm,
    Avi,
    Flv,
    MpegTs,
    Asf,
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
    Mp3,
    Aac,
    Wav,
    Flac,
    Ogg,
    /// UTF-8 text.
    Text,
    Unknown,
}

/// What kind of content a format carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A container that may hold video (and audio).
    Movie,
    Audio,
    Image,
    Text,
    Unknown,
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::Mp4 => "mp4",
            Format::M4a => "m4a",
            Format::Mov => "mov",
            Format::ThreeGp => "3gp",
            Format::Heif => "heif",
            Format::OtherIsoMedia => "iso-media",
            Format::Matroska => "mkv",
            Format::Webm => "webm",
            Format::Avi => "avi",
            Format::Flv => "flv",
            Format::MpegTs => "ts",
            Format::Asf => "wmv",
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Mp3 => "mp3",
            Format::Aac => "aac",
            Format::Wav => "wav",
            Format::Flac => "flac",
            Format::Ogg => "ogg",
            Format::Text => "txt",
            Format::Unknown => "unknown",
        }
    }

    /// The name a worker recognises.
    pub fn label_zh(self) -> &'static str {
        match self {
            Format::Mp4 => "MP4",
            Format::M4a => "M4A 音频",
            Format::Mov => "QuickTime MOV",
            Format::ThreeGp => "3GP",
            Format::Heif => "HEIF/HEIC 图片",
            Format::OtherIsoMedia => "非 MP4 品牌的 ISO 媒体文件",
            Format::Matroska => "Matroska (MKV)",
            Format::Webm => "WebM",
            Format::Avi => "AVI",
            Format::Flv => "FLV",
            Format::MpegTs => "MPEG-TS",
            Format::Asf => "WMV/ASF",
            Format::Jpeg => "JPEG 图片",
            Format::Png => "PNG 图片",
            Format::Gif => "GIF 图片",
            Format::Webp => "WebP 图片",
            Format::Bmp => "BMP 图片",
            Format::Tiff => "TIFF 图片",
            Format::Mp3 => "MP3 音频",
            Format::Aac => "AAC 音频",
            Format::Wav => "WAV 音频",
            Format::Flac => "FLAC 音频",
            Format::Ogg => "Ogg 音频",
            Format::Text => "纯文本",
            Format::Unknown => "无法识别的格式",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Format::Mp4
            | Format::Mov
            | Format::ThreeGp
            | Format::OtherIsoMedia
            | Format::Matroska
            | Format::Webm
            | Format::Avi
            | Format::Flv
            | Format::MpegTs
            | Format::Asf => Family::Movie,
            Format::M4a | Format::Mp3 | Format::Aac | Format::Wav | Format::Flac | Format::Ogg => {
                Family::Audio
            }
            Format::Heif
            | Format::Jpeg
            | Format::Png
            | Format::Gif
            | Format::Webp
            | Format::Bmp
            | Format::Tiff => Family::Image,
            Format::Text => Family::Text,
            Format::Unknown => Family::Unknown,
        }
    }

    /// Whether the ISO box structure can be walked (and measured) the MP4 way.
    pub fn is_iso_media(self) -> bool {
        matches!(
            self,
            Format::Mp4 | Format::M4a | Format::Mov | Format::ThreeGp | Format::OtherIsoMedia
        )
    }

    /// Reads a name from a campaign file's `allowed` list; common spellings are accepted.
    pub fn from_name(name: &str) -> Option<Format> {
        let name = name.trim().trim_start_matches('.').to_ascii_lowercase();
        Some(match name.as_str() {
            "mp4" | "m4v" => Format::Mp4,
            "m4a" => Format::M4a,
            "mov" | "qt" | "quicktime" => Format::Mov,
            "3gp" | "3g2" => Format::ThreeGp,
            "heif" | "heic" | "avif" => Format::Heif,
            "mkv" | "matroska" => Format::Matroska,
            "webm" => Format::Webm,
            "avi" => Format::Avi,
            "flv" => Format::Flv,
            "ts" | "mpegts" => Format::MpegTs,
            "wmv" | "asf" => Format::Asf,
            "jpg" | "jpeg" => Format::Jpeg,
            "png" => Format::Png,
            "gif" => Format::Gif,
            "webp" => Format::Webp,
            "bmp" => Format::Bmp,
            "tif" | "tiff" => Format::Tiff,
            "mp3" => Format::Mp3,
            "aac" => Format::Aac,
            "wav" | "wave" => Format::Wav,
            "flac" => Format::Flac,
            "ogg" | "oga" => Format::Ogg,
            "txt" | "text" => Format::Text,
            _ => return None,
        })
    }
}

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// How many leading bytes `detect` wants to see.
pub const SNIFF_LEN: usize = 4096;

const MP4_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41",
    b"mp42", b"mp71", b"avc1", b"dash", b"msdh", b"msix", b"M4V ", b"M4VH", b"M4VP", b"MSNV",
    b"NDAS", b"XAVC", b"cmfc", b"cmf2", b"f4v ",
];
const AUDIO_BRANDS: &[&[u8; 4]] = &[b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "];
const IMAGE_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis",
];

/// Classifies the first bytes of a file (`head` holds up to `SNIFF_LEN` of them).
pub fn detect(head: &[u8]) -> Format {
    let at = |i: usize, m: &[u8]| head.get(i..i + m.len()) == Some(m);
    if at(4, b"ftyp") {
        return iso_brand(head);
    }
    // Classic QuickTime files start with a movie, data or padding atom and carry no `ftyp`.
    if [b"moov", b"mdat", b"wide", b"pnot", b"skip", b"free"]
        .iter()
        .any(|t| at(4, *t))
    {
        return Format::Mov;
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        // The EBML header names the document type within its first few dozen bytes.
        let window = &head[..head.len().min(64)];
        return if window.windows(4).any(|w| w == b"webm") {
            Format::Webm
        } else {
            Format::Matroska
        };
    }
    if at(0, b"RIFF") {
        if at(8, b"AVI ") {
            return Format::Avi;
        }
        if at(8, b"WAVE") {
            return Format::Wav;
        }
        if at(8, b"WEBP") {
            return Format::Webp;
        }
        return Format::Unknown;
    }
    if at(0, b"FLV\x01") {
        return Format::Flv;
    }
    if at(0, &[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) {
        return Format::Asf;
    }
    if head.first() == Some(&0x47) && head.get(188) == Some(&0x47) {
        return Format::MpegTs;
    }
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return Format::Jpeg;
    }
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Format::Png;
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Format::Gif;
    }
    if at(0, b"BM") && head.len() >= 26 {
        return Format::Bmp;
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Format::Tiff;
    }
    if at(0, b"fLaC") {
        return Format::Flac;
    }
    if at(0, b"OggS") {
        return Format::Ogg;
    }
    if at(0, b"ID3") {
        return Format::Mp3;
    }
    if let [0xFF, b1, ..] = head {
        // MPEG audio frame sync: 11 set bits; layer bits 00 mean ADTS (AAC), others MP1/2/3.
        if b1 & 0xE0 == 0xE0 {
            return if b1 & 0x06 == 0 {
                Format::Aac
            } else {
                Format::Mp3
            };
        }
    }
    if looks_like_text(head) {
        return Format::Text;
    }
    Format::Unknown
}

fn iso_brand(head: &[u8]) -> Format {
    let size = head
        .get(0..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(0);
    let major = head.get(8..12).unwrap_or(&[]);
    let compatible: Vec<&[u8]> = head
        .get(16..size.min(head.len()))
        .unwrap_or(&[])
        .chunks_exact(4)
        .collect();
    let is = |set: &[&[u8; 4]], b: &[u8]| set.iter().any(|s| s.as_slice() == b);
    if major == b"qt  " {
        return Format::Mov;
    }
    if is(MP4_BRANDS, major) {
        return Format::Mp4;
    }
    if is(AUDIO_BRANDS, major) {
        return Format::M4a;
    }
    if is(IMAGE_BRANDS, major) {
        return Format::Heif;
    }
    if major.starts_with(b"3gp") || major.starts_with(b"3g2") {
        return Format::ThreeGp;
    }
    // An unknown major brand: the compatible list decides.
    if compatible.contains(&b"qt  ".as_slice()) {
        return Format::Mov;
    }
    if compatible.iter().any(|b| is(MP4_BRANDS, b)) {
        return Format::Mp4;
    }
    Format::OtherIsoMedia
}

/// UTF-8 without NUL bytes (a sequence cut off at the end of the window is fine).
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut v = (size as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0, 0, 2, 0]);
        for c in compatible {
            v.extend_from_slice(*c);
        }
        v
    }

    #[test]
    fn brands_decide_between_mp4_and_mov() {
        assert_eq!(detect(&ftyp(b"isom", &[b"isom", b"avc1"])), Format::Mp4);
        assert_eq!(detect(&ftyp(b"mp42", &[])), Format::Mp4);
        assert_eq!(detect(&ftyp(b"qt  ", &[b"qt  "])), Format::Mov);
        assert_eq!(detect(&ftyp(b"M4A ", &[b"mp42"])), Format::M4a);
        assert_eq!(detect(&ftyp(b"heic", &[b"mif1"])), Format::Heif);
        assert_eq!(detect(&ftyp(b"3gp4", &[b"isom"])), Format::ThreeGp);
        assert_eq!(detect(&ftyp(b"abcd", &[b"mp41"])), Format::Mp4);
        assert_eq!(detect(&ftyp(b"abcd", &[b"qt  "])), Format::Mov);
        assert_eq!(detect(&ftyp(b"abcd", &[])), Format::OtherIsoMedia);
    }

    #[test]
    fn magic_numbers() {
        assert_eq!(
            detect(&[
                0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm'
            ]),
            Format::Webm
        );
        assert_eq!(detect(&[0x1A, 0x45, 0xDF, 0xA3, 0, 0]), Format::Matroska);
        assert_eq!(detect(b"RIFF\0\0\0\0AVI LIST"), Format::Avi);
        assert_eq!(detect(b"RIFF\0\0\0\0WAVEfmt "), Format::Wav);
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE0]), Format::Jpeg);
        assert_eq!(detect(b"ID3\x03"), Format::Mp3);
        assert_eq!(detect(&[0xFF, 0xFB, 0x90]), Format::Mp3);
        assert_eq!(detect(&[0xFF, 0xF1, 0x50]), Format::Aac);
        assert_eq!(detect("职工正能量".as_bytes()), Format::Text);
        assert_eq!(detect(&[0, 1, 2, 3, 4, 5, 6, 7]), Format::Unknown);
        assert_eq!(detect(&[]), Format::Unknown);
    }

    #[test]
    fn names_in_campaign_files() {
        assert_eq!(Format::from_name("MP4"), Some(Format::Mp4));
        assert_eq!(Format::from_name(".jpg"), Some(Format::Jpeg));
        assert_eq!(Format::from_name("docx"), None);
    }
}
