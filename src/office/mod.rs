//! Office formats: spreadsheets in (CSV, XLSX) and out. Hostile workbooks (zip bombs, huge
//! sheets) are refused before they are opened.

pub mod tabular;
