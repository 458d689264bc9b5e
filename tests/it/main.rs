//! One integration-test binary (one link step on a 2-core machine). Every test runs on SQLite
//! and, when `WANGJU_TEST_POSTGRES_URL` is set, again on PostgreSQL.

mod access_matrix;
mod account_import;
mod accounts;
mod activities;
mod audit;
mod browser;
mod bulk_browser;
mod campaign;
mod charts;
mod cli;
mod demo;
mod harness;
mod hostile;
mod lecture_team;
mod lists;
mod media;
mod observability;
mod orgs;
mod overview;
mod papers;
mod phone_browser;
mod photos;
mod platform;
mod publicity;
mod recommendation;
mod register;
mod reminders;
mod report_browser;
mod seam;
mod selection;
mod showcase;
mod summary;
mod works;
mod works_browser;
