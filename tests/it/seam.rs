//! The storage seam: every named statement is prepared on SQLite and on PostgreSQL after
//! migrations, so a statement one database rejects fails here, by name, before any user meets
//! it.

use crate::harness::{TestApp, backends};

#[tokio::test]
async fn every_statement_prepares_on_every_database() {
    for backend in backends() {
        let app = TestApp::spawn_on(
            backend,
            chrono::NaiveDate::from_ymd_opt(2020, 7, 1).expect("date"),
        )
        .await;
        let db = &app.state.db;
        let mut failures = Vec::new();
        let mut prepared = 0;
        for statement in wangju::db::statements() {
            match wangju::db::sql::prepare(db, statement).await {
                Ok(true) => prepared += 1,
                Ok(false) => {}
                Err(e) => failures.push(format!(
                    "{backend:?}: {}::{} — {e}",
                    statement.module, statement.name
                )),
            }
        }
        for bulk in wangju::db::bulk_inserts() {
            match wangju::db::sql::prepare_bulk(db, bulk).await {
                Ok(()) => prepared += 1,
                Err(e) => failures.push(format!("{backend:?}: bulk {} — {e}", bulk.name)),
            }
        }
        app.finish().await;
        assert!(
            failures.is_empty(),
            "statements the database rejects:\n{}",
            failures.join("\n")
        );
        assert!(
            prepared > 10,
            "{backend:?}: only {prepared} statements were prepared"
        );
    }
}

/// The two migration folders are written by hand; what they produce must agree: tables,
/// columns (type family, nullability), primary keys, indexes and unique keys.
#[tokio::test]
async fn sqlite_and_postgres_schemas_agree() {
    if !backends().contains(&wangju::db::Backend::Postgres) {
        return; // needs both databases; CI names a PostgreSQL server
    }
    let day = chrono::NaiveDate::from_ymd_opt(2020, 7, 1).expect("date");
    let sqlite = TestApp::spawn_on(wangju::db::Backend::Sqlite, day).await;
    let postgres = TestApp::spawn_on(wangju::db::Backend::Postgres, day).await;
    let left = wangju::db::schema::describe(&sqlite.state.db)
        .await
        .expect("sqlite schema");
    let right = wangju::db::schema::describe(&postgres.state.db)
        .await
        .expect("postgres schema");
    postgres.finish().await;
    assert!(
        left.len() > 10,
        "the SQLite schema has {} tables",
        left.len()
    );
    assert!(left.contains_key("activities") && left["activities"].indexes.len() >= 2);
    let differences = wangju::db::schema::differences("SQLite", &left, "PostgreSQL", &right);
    assert!(
        differences.is_empty(),
        "the schemas differ:\n{}",
        differences.join("\n")
    );
}
