//! Office formats: spreadsheets in (CSV, XLSX) and out, Word documents out (DOCX). Hostile
//! workbooks (zip bombs, huge sheets) are refused before they are opened.

pub mod chart;
pub mod forms;
pub mod sheet;
pub mod tabular;
pub mod word;
