//! 网聚 Wangju: runs a trade-union online campaign end to end.
//!
//! Layout, inner to outer: `domain` (pure rules) ← `db` (storage seam over SQLite and
//! PostgreSQL) and `office` (spreadsheets) ← `service` (use cases) ← `http` (pages and JSON
//! API) and `cli` (the `wangju` command). `app` wires them together.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod mail;
pub mod media;
pub mod net;
pub mod office;
pub mod service;
pub mod store;
pub mod telemetry;
