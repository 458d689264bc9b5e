//! Use cases shared by the web UI, the JSON API and the command line. Each takes the `Db`, the
//! acting account's scope and an audit `Actor`, validates, and writes in one transaction.

pub mod account_import;
pub mod accounts;
pub mod acting;
pub mod activities;
pub mod activity_bulk;
pub mod activity_export;
pub mod archive;
pub mod audit_view;
pub mod bootstrap;
pub mod calendars;
pub mod campaigns;
pub mod charts;
pub mod checkin;
pub mod circular;
pub mod cursor;
pub mod demo;
pub mod lecture_team;
pub mod orgs;
pub mod overview;
pub mod papers;
pub mod photos;
pub mod progress;
pub mod propagandists;
pub mod publicity;
pub mod reach;
pub mod recommendation;
pub mod reminders;
pub mod selection;
pub mod showcase;
pub mod summary;
pub mod works;
