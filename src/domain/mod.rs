//! Pure domain rules: no I/O, no database, no HTTP. Everything here compiles fast and is
//! tested on its own.

pub mod activity;
pub mod assignment;
pub mod calendar;
pub mod campaign;
pub mod ids;
pub mod lecture;
pub mod mask;
pub mod org;
pub mod password;
pub mod publicity;
pub mod reach;
pub mod recommendation;
pub mod reminder;
pub mod role;
pub mod selection;
pub mod text;
pub mod work;
