//! Bar charts as PNG images, drawn by Wangju itself (image + ab_glyph), with Chinese labels:
//! the summary's completion by district, activities by format and per week, reach by day.
//!
//! The glyphs come from a CJK font found at run time: the `chart_font` setting when given,
//! else the Debian paths of fonts-noto-cjk (and two other common CJK packages). When none is
//! installed [`ChartFont::find`] answers `None` and the documents carry the figures as tables
//! instead (docs/operations.md says so).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

/// Where a CJK font is looked for when `chart_font` is not set (Debian packages
/// fonts-noto-cjk, fonts-wqy-microhei, fonts-droid-fallback).
pub const DEFAULT_FONT_PATHS: [&str; 5] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

/// A loaded font (shared: a CJK collection is some 20 MB and is read once per process).
#[derive(Clone)]
pub struct ChartFont(Arc<FontVec>);

fn cache() -> &'static Mutex<HashMap<PathBuf, Option<ChartFont>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Option<ChartFont>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn load(path: &Path) -> Option<ChartFont> {
    if let Ok(guard) = cache().lock()
        && let Some(hit) = guard.get(path)
    {
        return hit.clone();
    }
    let loaded = std::fs::read(path).ok().and_then(|bytes| {
        // In the Noto CJK collections face 2 is Simplified Chinese; a single font is face 0.
        let index = if bytes.starts_with(b"ttcf") { 2 } else { 0 };
        FontVec::try_from_vec_and_index(bytes.clone(), index)
            .or_else(|_| FontVec::try_from_vec_and_index(bytes, 0))
            .ok()
            // A font without 中 cannot label a Chinese chart.
            .filter(|f| f.glyph_id('中').0 != 0)
            .map(|f| ChartFont(Arc::new(f)))
    });
    if let Ok(mut guard) = cache().lock() {
        guard.insert(path.to_path_buf(), loaded.clone());
    }
    loaded
}

impl ChartFont {
    /// The configured font (an empty setting: the default paths), or `None` when no usable CJK
    /// font is installed.
    pub fn find(configured: &str) -> Option<ChartFont> {
        if !configured.trim().is_empty() {
            return load(Path::new(configured.trim()));
        }
        DEFAULT_FONT_PATHS
            .iter()
            .find_map(|p| Path::new(p).exists().then(|| load(Path::new(p))).flatten())
    }
}

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// What is printed at the bar's end (e.g. "83.3%" or "12").
    pub shown: String,
}

/// A chart: horizontal bars for named categories (units, formats), vertical for a time series.
/// The title is the document's caption under the picture, not drawn in it.
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub bars: Vec<Bar>,
    pub horizontal: bool,
    /// A reference line (e.g. 100% completion), in the bars' units.
    pub target: Option<(f64, String)>,
}

/// A drawn chart: PNG bytes and its size in pixels.
pub struct Png {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([33, 33, 33]);
const GRID: Rgb<u8> = Rgb([210, 210, 210]);
const BAR: Rgb<u8> = Rgb([192, 39, 45]);
const TARGET: Rgb<u8> = Rgb([40, 90, 160]);
/// Printed width at 2 px per point: sharp on paper at the text block's 15.6 cm.
pub const WIDTH: u32 = 1600;
/// Most bars drawn; a longer series is cut (its table in the appendix has every row).
pub const MAX_BARS: usize = 60;

fn fill(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb<u8>) {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            img.put_pixel(x as u32, y as u32, c);
        }
    }
}

fn text_width(font: &FontVec, size: f32, s: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(size));
    s.chars().map(|c| scaled.h_advance(font.glyph_id(c))).sum()
}

/// Draws `s` with its top-left at (x, y), blending into the background.
fn text(img: &mut RgbImage, font: &FontVec, size: f32, x: f32, y: f32, s: &str, c: Rgb<u8>) {
    let scale = PxScale::from(size);
    let scaled = font.as_scaled(scale);
    let mut caret = x;
    let baseline = y + scaled.ascent();
    let (w, h) = (img.width() as i64, img.height() as i64);
    for ch in s.chars() {
        let id = font.glyph_id(ch);
        let glyph = id.with_scale_and_position(scale, point(caret, baseline));
        caret += scaled.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, cov| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            if px < 0 || py < 0 || px >= w || py >= h {
                return;
            }
            let bg = img.get_pixel(px as u32, py as u32).0;
            let mix = |b: u8, f: u8| -> u8 {
                (f32::from(b) * (1.0 - cov) + f32::from(f) * cov).round() as u8
            };
            img.put_pixel(
                px as u32,
                py as u32,
                Rgb([mix(bg[0], c.0[0]), mix(bg[1], c.0[1]), mix(bg[2], c.0[2])]),
            );
        });
    }
}

/// Cuts a label to `max` pixels wide, ending it with "…".
fn fit(font: &FontVec, size: f32, s: &str, max: f32) -> String {
    if text_width(font, size, s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if text_width(font, size, &format!("{out}{c}…")) > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn encode(img: &RgbImage) -> Result<Png, String> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| e.to_string())?;
    Ok(Png {
        bytes,
        width: img.width(),
        height: img.height(),
    })
}

/// Draws the chart. An empty chart says so in the picture rather than failing.
pub fn draw(font: &ChartFont, chart: &Chart) -> Result<Png, String> {
    let bars: Vec<&Bar> = chart.bars.iter().take(MAX_BARS).collect();
    if chart.horizontal {
        horizontal(&font.0, &bars, chart.target.as_ref())
    } else {
        vertical(&font.0, &bars)
    }
}

fn max_value(bars: &[&Bar], target: Option<&(f64, String)>) -> f64 {
    let top = bars
        .iter()
        .map(|b| b.value)
        .chain(target.map(|t| t.0))
        .fold(0.0_f64, f64::max);
    if top <= 0.0 { 1.0 } else { top * 1.08 }
}

fn horizontal(
    font: &FontVec,
    bars: &[&Bar],
    target: Option<&(f64, String)>,
) -> Result<Png, String> {
    let (row, label_size) = (52_u32, 30.0_f32);
    let top = 24_u32;
    let height = top + row * (bars.len().max(1) as u32) + 64;
    let mut img = RgbImage::from_pixel(WIDTH, height, WHITE);
    let label_w = bars
        .iter()
        .map(|b| text_width(font, label_size, &b.label))
        .fold(0.0_f32, f32::max)
        .clamp(120.0, 420.0);
    let x0 = 30.0 + label_w + 16.0;
    let x1 = WIDTH as f32 - 150.0;
    let max = max_value(bars, target);
    let scale = |v: f64| x0 + ((v / max) as f32) * (x1 - x0);
    if bars.is_empty() {
        text(
            &mut img,
            font,
            label_size,
            x0,
            top as f32 + 8.0,
            "暂无数据",
            INK,
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y = (top + row * i as u32) as f32;
        let label = fit(font, label_size, &b.label, label_w);
        let lw = text_width(font, label_size, &label);
        text(
            &mut img,
            font,
            label_size,
            x0 - 16.0 - lw,
            y + 6.0,
            &label,
            INK,
        );
        let end = scale(b.value.max(0.0));
        fill(
            &mut img,
            x0 as i64,
            (y + 6.0) as i64,
            end as i64,
            (y + row as f32 - 6.0) as i64,
            BAR,
        );
        text(
            &mut img,
            font,
            label_size,
            end + 10.0,
            y + 6.0,
            &b.shown,
            INK,
        );
    }
    let bottom = (top + row * bars.len().max(1) as u32) as i64;
    fill(
        &mut img,
        x0 as i64 - 2,
        top as i64 - 6,
        x0 as i64,
        bottom + 4,
        INK,
    );
    if let Some((value, label)) = target {
        let x = scale(*value) as i64;
        let mut y = top as i64 - 6;
        while y < bottom + 4 {
            fill(&mut img, x - 1, y, x + 2, y + 10, TARGET);
            y += 18;
        }
        text(
            &mut img,
            font,
            28.0,
            x as f32 + 6.0,
            bottom as f32 + 14.0,
            label,
            TARGET,
        );
    }
    encode(&img)
}

fn vertical(font: &FontVec, bars: &[&Bar]) -> Result<Png, String> {
    let height = 640_u32;
    let label_size = 26.0_f32;
    let mut img = RgbImage::from_pixel(WIDTH, height, WHITE);
    let (x0, x1, y_top, y_base) = (120.0_f32, WIDTH as f32 - 30.0, 60.0_f32, 560.0_f32);
    let max = max_value(bars, None);
    // Four grid lines with their values.
    for k in 0..=4 {
        let v = max / 4.0 * f64::from(k);
        let y = y_base - (y_base - y_top) * (k as f32 / 4.0);
        fill(&mut img, x0 as i64, y as i64, x1 as i64, y as i64 + 2, GRID);
        let s = format!("{}", v.round() as i64);
        let w = text_width(font, label_size, &s);
        text(&mut img, font, label_size, x0 - 12.0 - w, y - 14.0, &s, INK);
    }
    if bars.is_empty() {
        text(
            &mut img,
            font,
            28.0,
            x0 + 20.0,
            y_base - 60.0,
            "暂无数据",
            INK,
        );
        return encode(&img);
    }
    let slot = (x1 - x0) / bars.len() as f32;
    // Labels every `step` bars so that they never overlap.
    let widest = bars
        .iter()
        .map(|b| text_width(font, label_size, &b.label))
        .fold(0.0_f32, f32::max)
        + 12.0;
    let step = ((widest / slot).ceil() as usize).max(1);
    for (i, b) in bars.iter().enumerate() {
        let cx = x0 + slot * (i as f32 + 0.5);
        let h = ((b.value.max(0.0) / max) as f32) * (y_base - y_top);
        let half = (slot * 0.35).max(1.0);
        fill(
            &mut img,
            (cx - half) as i64,
            (y_base - h) as i64,
            (cx + half) as i64,
            y_base as i64,
            BAR,
        );
        if i % step == 0 {
            let w = text_width(font, label_size, &b.label);
            text(
                &mut img,
                font,
                label_size,
                cx - w / 2.0,
                y_base + 12.0,
                &b.label,
                INK,
            );
            if bars.len() <= 31 {
                let sw = text_width(font, label_size, &b.shown);
                text(
                    &mut img,
                    font,
                    label_size,
                    cx - sw / 2.0,
                    y_base - h - 30.0,
                    &b.shown,
                    INK,
                );
            }
        }
    }
    fill(
        &mut img,
        x0 as i64,
        y_base as i64,
        x1 as i64,
        y_base as i64 + 3,
        INK,
    );
    encode(&img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_a_png_when_a_cjk_font_is_installed() {
        let Some(font) = ChartFont::find("") else {
            eprintln!("no CJK font installed: charts fall back to tables");
            return;
        };
        let chart = Chart {
            title: "各区完成率".into(),
            bars: vec![
                Bar {
                    label: "和平区总工会".into(),
                    value: 50.0,
                    shown: "50.0%".into(),
                },
                Bar {
                    label: "滨海新区总工会".into(),
                    value: 120.0,
                    shown: "120.0%".into(),
                },
            ],
            horizontal: true,
            target: Some((100.0, "任务数".into())),
        };
        let png = draw(&font, &chart).expect("png");
        assert!(png.bytes.starts_with(&[137, 80, 78, 71]));
        assert_eq!(png.width, WIDTH);
        let empty = draw(
            &font,
            &Chart {
                title: "每周活动".into(),
                bars: Vec::new(),
                horizontal: false,
                target: None,
            },
        )
        .expect("png");
        assert!(empty.bytes.len() > 100);
    }

    #[test]
    fn a_missing_font_file_is_no_font() {
        assert!(ChartFont::find("/nonexistent/font.ttc").is_none());
    }
}
