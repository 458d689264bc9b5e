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
/// Rows a sheet may carry above its data (title, notes, the header itself).
pub const MAX_HEAD_ROWS: usize = 20;
/// Most columns a sheet may use.
pub const MAX_COLUMNS: usize = 64;
/// Most non-empty cells in one sheet.
pub const MAX_CELLS: usize = 600_000;

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
    /// The header's 1-based line (row) number in the file.
    pub header_line: usize,
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Index of the first header cell matching one of `names`.
    /// The header and the rows together, each with its line number.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &[String])> {
        std::iter::once((self.header_line, self.header.as_slice()))
            .chain(self.rows.iter().map(|(n, r)| (*n, r.as_slice())))
    }

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

/// [`read`] on the blocking pool, so a large workbook does not hold up an async worker; a
/// reader that panics on a hostile file fails this import only.
pub async fn read_off_thread(bytes: bytes::Bytes) -> Result<Table, String> {
    tokio::task::spawn_blocking(move || read(&bytes))
        .await
        .unwrap_or_else(|_| Err(not_xlsx()))
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
        let used = record
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.trim().is_empty())
            .map(|(i, _)| i + 1)
            .last()
            .unwrap_or(0);
        if used > MAX_COLUMNS {
            return Err(too_wide(i + 1));
        }
        let cells: Vec<String> = record
            .iter()
            .take(MAX_COLUMNS)
            .map(|c| c.trim().to_string())
            .collect();
        if header.is_none() {
            header = Some((i + 1, cells));
        } else if cells.iter().any(|c| !c.is_empty()) {
            rows.push((i + 1, cells));
        }
        if rows.len() > MAX_ROWS {
            break;
        }
    }
    let (header_line, header) = header.ok_or("文件是空的：第一行应为表头")?;
    Ok(Table {
        header,
        header_line,
        rows,
    })
}

fn too_wide(line: usize) -> String {
    format!(
        "第 {line} 行超过 {MAX_COLUMNS} 列。导入表最多 {MAX_COLUMNS} 列，请删去多余的列后再上传"
    )
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

/// Reads the first worksheet (after `guard_zip` has vouched for the archive), cell by cell.
/// A sheet's declared or used range is never allocated as a grid: a single cell at the far
/// corner (`XFD1048576`) would ask for billions of cells. Rows, columns and cells are bounded
/// as they arrive, and a sheet past a bound is refused with the bound named.
fn read_xlsx(bytes: &[u8]) -> Result<Table, String> {
    guard_zip(bytes)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let first = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or("工作簿中没有工作表")?;
    let mut reader = workbook
        .worksheet_cells_reader(&first)
        .map_err(|_| not_xlsx())?;
    let mut grid: std::collections::BTreeMap<u32, Vec<(u32, String)>> = Default::default();
    let mut cells = 0_usize;
    while let Some(cell) = reader.next_cell().map_err(|_| not_xlsx())? {
        let text = cell_ref_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        let (row, column) = cell.get_position();
        if column as usize >= MAX_COLUMNS {
            return Err(too_wide(row as usize + 1));
        }
        if row as usize >= MAX_ROWS + MAX_HEAD_ROWS {
            return Err(format!(
                "工作表第 {} 行有内容，超出导入上限：一次最多导入 {MAX_ROWS} 行数据（连同表头不超过 {} 行）。请删去多余的行，或分成几个文件导入",
                row as usize + 1,
                MAX_ROWS + MAX_HEAD_ROWS
            ));
        }
        cells += 1;
        if cells > MAX_CELLS {
            return Err(format!(
                "工作表的内容超过 {MAX_CELLS} 个单元格，超出导入上限。请只保留需要导入的列和行"
            ));
        }
        grid.entry(row).or_default().push((column, text));
    }
    let mut lines = grid.into_iter().map(|(row, mut cells)| {
        cells.sort_by_key(|(c, _)| *c);
        let width = cells.last().map_or(0, |(c, _)| *c as usize + 1);
        let mut dense = vec![String::new(); width];
        for (c, text) in cells {
            if let Some(slot) = dense.get_mut(c as usize) {
                *slot = text;
            }
        }
        (row as usize + 1, dense)
    });
    let (header_line, header) = lines.next().ok_or("工作表是空的：第一行应为表头")?;
    let rows: Vec<(usize, Vec<String>)> = lines.take(MAX_ROWS + 1).collect();
    Ok(Table {
        header,
        header_line,
        rows,
    })
}

fn cell_ref_text(cell: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef;
    match cell {
        DataRef::Empty => String::new(),
        DataRef::SharedString(s) => s.trim().to_string(),
        DataRef::String(s) => s.trim().to_string(),
        DataRef::Float(f) => cell_text(&Data::Float(*f)),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => cell_text(&Data::DateTime(*d)),
        DataRef::DateTimeIso(d) => d.trim().to_string(),
        DataRef::DurationIso(d) => d.trim().to_string(),
        DataRef::Error(e) => e.to_string(),
    }
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

    /// A workbook with one cell at A1 and one at the far corner: a few KB that a dense reader
    /// would turn into 17 billion cells.
    fn sparse_workbook(far: &str) -> Vec<u8> {
        use std::io::Write;
        let mut buf = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let o = zip::write::SimpleFileOptions::default();
            let parts: [(&str, String); 5] = [
                ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.into()),
                ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into()),
                ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into()),
                ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.into()),
                ("xl/worksheets/sheet1.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:{far}"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>单位名称</t></is></c></row><row r="{row}"><c r="{far}"><v>1</v></c></row></sheetData></worksheet>"#, row = far.trim_start_matches(|c: char| c.is_ascii_alphabetic()))),
            ];
            for (name, body) in parts {
                let _ = zip.start_file(name, o);
                let _ = zip.write_all(body.as_bytes());
            }
            let _ = zip.finish();
        }
        buf.into_inner()
    }

    #[test]
    fn a_far_corner_cell_is_refused_without_allocating_the_range() {
        let bytes = sparse_workbook("XFD1048576");
        assert!(bytes.len() < 5_000);
        let err = read(&bytes).err().unwrap_or_default();
        assert!(err.contains("列"), "{err}");
        let err = read(&sparse_workbook("A1048576")).err().unwrap_or_default();
        assert!(err.contains("20000 行"), "{err}");
        let err = read(&sparse_workbook("BM2")).err().unwrap_or_default();
        assert!(err.contains("64 列"), "{err}");
        let ok = read(&sparse_workbook("C3")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.header, vec!["单位名称"]);
        assert_eq!(
            ok.rows,
            vec![(3, vec![String::new(), String::new(), "1".into()])]
        );
    }

    #[test]
    fn a_csv_line_with_a_million_columns_is_refused() {
        let mut csv = String::from("名称\n");
        csv.push_str(&",".repeat(1_000_000));
        csv.push('x');
        let err = read(csv.as_bytes()).err().unwrap_or_default();
        assert!(err.contains("64 列"), "{err}");
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
