//! One integration-test binary (one link step on a 2-core machine). Every test runs on SQLite
//! and, when `WANGJU_TEST_POSTGRES_URL` is set, again on PostgreSQL.

mod access_matrix;
mod accounts;
mod activities;
mod audit;
mod browser;
mod campaign;
mod charts;
mod cli;
mod demo;
mod harness;
mod hostile;
mod media;
mod observability;
mod orgs;
mod overview;
mod photos;
mod platform;
mod reminders;
mod report_browser;
mod seam;
mod selection;
mod works;
mod works_browser;
