//! Reading and writing simple tables (one header row, then data) as CSV or XLSX.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

/// Largest file accepted for import.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// Largest total uncompressed size of an XLSX's parts.
const MAX_UNZIPPED_BYTES: u64 = 64 * 1024 * 1024;
const MAX_ZIP_ENTRIES: usize = 2_000;
/// Most data rows in one import.
pub const MAX_ROWS: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// Judged from the content: an XLSX is a zip (`PK\x03\x04`), anything else is read as CSV.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// A table read from a file: the header and the data rows, each with its 1-based line number
/// in the file (row number in the sheet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Index of the first header cell matching one of `names`.
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    }
}

/// Reads a CSV or XLSX file. Errors are in Chinese and say what to fix.
pub fn read(bytes: &[u8]) -> Result<Table, String> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(format!(
            "文件太大（{:.1} MB），请不要超过 {} MB",
            bytes.len() as f64 / 1_048_576.0,
            MAX_UPLOAD_BYTES / 1_048_576
        ));
    }
    let table = match Format::sniff(bytes) {
        Format::Xlsx => read_xlsx(bytes)?,
        Format::Csv => read_csv(bytes)?,
    };
    if table.rows.len() > MAX_ROWS {
        return Err(format!(
            "一次最多导入 {MAX_ROWS} 行，这个文件有 {} 行",
            table.rows.len()
        ));
    }
    Ok(table)
}

fn read_csv(bytes: &[u8]) -> Result<Table, String> {
    // Excel on Windows saves "CSV UTF-8" with a BOM; plain "CSV" in GBK is refused clearly.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err("CSV 文件不是 UTF-8 编码。请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”，或直接上传 xlsx 文件".into());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut header = None;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("第 {} 行无法读取：{e}", i + 1))?;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if header.is_none() {
            header = Some(cells);
        } else if cells.iter().any(|c| !c.is_empty()) {
            rows.push((i + 1, cells));
        }
        if rows.len() > MAX_ROWS {
            break;
        }
    }
    Ok(Table {
        header: header.ok_or("文件是空的：第一行应为表头")?,
        rows,
    })
}

/// Refuses zip bombs before the workbook is parsed: counts the parts, and inflates each into a
/// sink with a running cap, so neither a large declared size nor a part that lies about its
/// size can make us hold more than `MAX_UNZIPPED_BYTES`.
fn guard_zip(bytes: &[u8]) -> Result<(), String> {
    let bomb =
        || "工作簿解压后过大（可能是压缩炸弹），已拒绝。请只保留需要导入的工作表".to_string();
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err("工作簿结构异常（部件过多），已拒绝".into());
    }
    let mut declared: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|_| not_xlsx())?;
        declared = declared.saturating_add(entry.size());
    }
    if declared > MAX_UNZIPPED_BYTES {
        return Err(bomb());
    }
    let mut inflated: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|_| not_xlsx())?;
        let budget = MAX_UNZIPPED_BYTES - inflated;
        let n = std::io::copy(&mut entry.take(budget + 1), &mut std::io::sink())
            .map_err(|_| not_xlsx())?;
        inflated += n;
        if inflated > MAX_UNZIPPED_BYTES {
            return Err(bomb());
        }
    }
    Ok(())
}

fn not_xlsx() -> String {
    "文件不是有效的 xlsx 工作簿。请用 Excel 或 WPS 另存为 .xlsx 后再上传".into()
}

/// Reads the first worksheet (after `guard_zip` has vouched for the archive).
fn read_xlsx(bytes: &[u8]) -> Result<Table, String> {
    guard_zip(bytes)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or("工作簿中没有工作表")?
        .map_err(|_| not_xlsx())?;
    let mut rows_iter = range.rows().enumerate();
    let header: Vec<String> = rows_iter
        .next()
        .map(|(_, r)| r.iter().map(cell_text).collect())
        .ok_or("工作表是空的：第一行应为表头")?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows = Vec::new();
    for (i, row) in rows_iter {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        if cells.iter().any(|c| !c.is_empty()) {
            rows.push((first_row + i + 1, cells));
        }
        if rows.len() > MAX_ROWS {
            break;
        }
    }
    Ok(Table { header, rows })
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().trim().to_string(),
    }
}

/// Neutralises spreadsheet formula injection: a cell that starts with = + - @ (or a tab or
/// carriage return) is written as text with a leading apostrophe-free quote mark.
pub fn safe_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// Writes a table as XLSX with CJK-friendly column widths. Cells are always strings.
pub fn write_xlsx(
    sheet_name: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format as CellFormat, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).map_err(|e| e.to_string())?;
    let bold = CellFormat::new().set_bold();
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for (c, title) in header.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *title, &bold)
            .map_err(|e| e.to_string())?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            // Strings only: the writer never turns a cell into a formula.
            sheet
                .write_string((r + 1) as u32, c as u16, value)
                .map_err(|e| e.to_string())?;
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(display_width(value));
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        // Excel's width unit is about one Latin character; a CJK character takes two.
        sheet
            .set_column_width(c as u16, (*w as f64 + 2.0).min(80.0))
            .map_err(|e| e.to_string())?;
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

/// Writes a table as CSV (UTF-8 with BOM, so Excel opens Chinese correctly).
pub fn write_csv(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(header).map_err(|e| e.to_string())?;
        for row in rows {
            let safe: Vec<String> = row.iter().map(|c| safe_cell(c)).collect();
            writer.write_record(&safe).map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Width in Latin-character units: CJK and full-width characters count double.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) < 0x2E80 { 1 } else { 2 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xlsx_round_trip_keeps_text() {
        let rows = vec![vec!["滨海新区总工会".to_string(), "=1+1".to_string()]];
        let bytes = write_xlsx("组织", &["单位名称", "备注"], &rows).unwrap_or_default();
        let table = read(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.header, vec!["单位名称", "备注"]);
        assert_eq!(table.rows, vec![(2, rows[0].clone())]);
    }

    #[test]
    fn csv_with_bom_and_blank_lines() {
        let table = read("\u{FEFF}名称,上级\n甲工会,乙工会\n,\n丙工会,\n".as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[1].0, 4);
    }

    #[test]
    fn gbk_csv_is_refused_with_advice() {
        let err = read(&[0xC3, 0xFB, 0xB3, 0xC6, b'\n'])
            .err()
            .unwrap_or_default();
        assert!(err.contains("UTF-8"));
    }

    #[test]
    fn csv_cells_are_defused() {
        let out = write_csv(&["a"], &[vec!["=HYPERLINK(\"x\")".into()]]).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.contains("'=HYPERLINK"));
    }

    #[test]
    fn zip_bomb_is_refused_before_inflating() {
        use std::io::Write;
        let mut buf = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            let _ = zip.start_file("xl/worksheets/sheet1.xml", options);
            let chunk = vec![b'a'; 1 << 20];
            for _ in 0..70 {
                let _ = zip.write_all(&chunk);
            }
            let _ = zip.finish();
        }
        let bytes = buf.into_inner();
        assert!(bytes.len() < MAX_UPLOAD_BYTES);
        let err = read(&bytes).err().unwrap_or_default();
        assert!(err.contains("压缩炸弹"), "{err}");
    }
}
