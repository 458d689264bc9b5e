//! Media files as the file rules see them: the probe and the check live in the `wangju-media`
//! library (crates/media), which knows nothing of databases or HTTP, so it can be fuzzed and
//! tested on its own. This module re-exports it and adds the `wangju media check` command.

pub use wangju_media::*;

pub mod command;
