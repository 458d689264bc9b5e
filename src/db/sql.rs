//! Named SQL statements. Every statement Wangju runs is a constant declared with
//! [`statements!`](crate::db::statements), which also lists it in its module's `STATEMENTS`;
//! `db::statements()` walks all of them, and a test prepares each one on SQLite and on
//! PostgreSQL after migrations, so a statement that one database rejects fails the build's tests
//! by name instead of failing a user at run time.
//!
//! The text is usually the same on both databases (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`, integer times). Where the dialects differ, a statement carries one text per
//! database; a statement only one database needs leaves the other text empty.
//!
//! Queries go through [`query`], [`query_as`] and [`query_scalar`], which take a statement, not
//! a string: nothing in `db/` builds SQL from strings at run time, except the multi-row inserts
//! of [`Bulk`], whose one-row form is prepared by the same test.

use sqlx::Database;

use super::{Backend, Db};

/// One SQL statement with its name and its text on each database.
#[derive(Debug)]
pub struct Sql {
    /// `module::NAME`, for test failures and logs.
    pub name: &'static str,
    pub module: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// The text run when a statement does not exist on a database: an error, never a silent no-op.
const NOT_ON_THIS_DATABASE: &str = "SELECT wangju_statement_not_available_on_this_database()";

impl Sql {
    /// Declared by `statements!`: one text for both databases, or (SQLite, PostgreSQL).
    #[doc(hidden)]
    pub const fn declare(name: &'static str, module: &'static str, texts: &[&'static str]) -> Sql {
        let (sqlite, postgres) = match texts {
            [both] => (*both, *both),
            [sqlite, postgres] => (*sqlite, *postgres),
            _ => panic!("a statement has one text, or one for SQLite and one for PostgreSQL"),
        };
        Sql {
            name,
            module,
            sqlite,
            postgres,
        }
    }

    /// The text for `backend`, if the statement exists there.
    pub fn text_on(&self, backend: Backend) -> Option<&'static str> {
        let text = match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        };
        (!text.is_empty()).then_some(text)
    }

    /// The text for the database type `DB` (picked by the driver's name).
    pub fn text<DB: Database>(&self) -> &'static str {
        self.text_on(backend_of::<DB>())
            .unwrap_or(NOT_ON_THIS_DATABASE)
    }
}

fn backend_of<DB: Database>() -> Backend {
    if DB::NAME == "PostgreSQL" {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// Declares named statements and lists them in the module's `STATEMENTS`:
///
/// ```ignore
/// statements! {
///     /// One org by id.
///     GET = "SELECT … FROM orgs WHERE id = $1";
///     /// SQLite first, then PostgreSQL.
///     FORMAT = "json_extract(…)", "(CAST(… AS jsonb) ->> 'format')";
///     /// Both texts from one expression giving `[sqlite, postgres]` (e.g. a helper macro).
///     LIST = @dialects both_from_fragments!(…);
/// }
/// ```
macro_rules! statements {
    (@acc [$($done:ident)*]) => {
        /// Every statement of this module, for the test that prepares them all.
        pub(crate) const STATEMENTS: &[&$crate::db::sql::Sql] = &[$(&$done),*];
    };
    (@acc [$($done:ident)*] $(#[$meta:meta])* $name:ident = @dialects $pair:expr; $($rest:tt)*) => {
        $(#[$meta])*
        pub(crate) const $name: $crate::db::sql::Sql =
            $crate::db::sql::Sql::declare(stringify!($name), module_path!(), &$pair);
        $crate::db::sql::statements!(@acc [$($done)* $name] $($rest)*);
    };
    (@acc [$($done:ident)*] $(#[$meta:meta])* $name:ident = $($text:expr),+ ; $($rest:tt)*) => {
        $(#[$meta])*
        pub(crate) const $name: $crate::db::sql::Sql =
            $crate::db::sql::Sql::declare(stringify!($name), module_path!(), &[$($text),+]);
        $crate::db::sql::statements!(@acc [$($done)* $name] $($rest)*);
    };
    ($($rest:tt)*) => {
        $crate::db::sql::statements!(@acc [] $($rest)*);
    };
}

pub(crate) use statements;

/// `sqlx::query` on a named statement.
pub fn query<'q, DB: Database>(
    sql: &'static Sql,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>> {
    sqlx::query(sql.text::<DB>())
}

/// `sqlx::query_as` on a named statement.
pub fn query_as<'q, DB: Database, O>(
    sql: &'static Sql,
) -> sqlx::query::QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    O: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query_as(sql.text::<DB>())
}

/// `sqlx::query_scalar` on a named statement.
pub fn query_scalar<'q, DB: Database, O>(
    sql: &'static Sql,
) -> sqlx::query::QueryScalar<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    (O,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query_scalar(sql.text::<DB>())
}

/// A multi-row insert into one table: `INSERT INTO table (columns) VALUES (…), (…) suffix`.
/// The statement for n rows is built from this declaration, never from other strings; the test
/// that prepares every statement prepares its one-row form.
#[derive(Debug)]
pub struct Bulk {
    pub name: &'static str,
    pub table: &'static str,
    pub columns: &'static [&'static str],
    /// After the values, e.g. `ON CONFLICT DO NOTHING`; may be empty.
    pub suffix: &'static str,
}

impl Bulk {
    /// The statement for `rows` rows. SQLite gets anonymous `?` placeholders: it finds a
    /// numbered one by walking all of them, which is quadratic in one big statement.
    pub fn text(&self, backend: Backend, rows: usize) -> String {
        let width = self.columns.len();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.columns.join(", ")
        );
        sql.reserve(rows * width * 6);
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for col in 0..width {
                if col > 0 {
                    sql.push_str(", ");
                }
                match backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => {
                        sql.push('$');
                        sql.push_str(&(row * width + col + 1).to_string());
                    }
                }
            }
            sql.push(')');
        }
        if !self.suffix.is_empty() {
            sql.push(' ');
            sql.push_str(self.suffix);
        }
        sql
    }

    /// Most rows one statement may carry within `max_params` bound parameters.
    pub fn rows_per_statement(&self, max_params: usize) -> usize {
        (max_params / self.columns.len().max(1)).max(1)
    }
}

/// A value bound into a multi-row insert.
pub enum Value {
    I(i64),
    T(String),
    /// A text that may be NULL.
    N(Option<String>),
    /// An integer that may be NULL (PostgreSQL wants NULLs typed like their column).
    NI(Option<i64>),
}

/// Most bind parameters in one statement (SQLite allows 32,766, PostgreSQL 65,535).
const MAX_PARAMS: usize = 30_000;

/// Inserts `rows` (each `bulk.columns.len()` values, row after row) in as few statements as the
/// parameter limit allows, inside the caller's transaction.
pub async fn insert_rows(
    tx: &mut super::Tx,
    bulk: &'static Bulk,
    rows: &[Value],
) -> Result<(), sqlx::Error> {
    let width = bulk.columns.len().max(1);
    let per_statement = bulk.rows_per_statement(MAX_PARAMS);
    let backend = match tx {
        super::Tx::Sqlite(_) => Backend::Sqlite,
        super::Tx::Postgres(_) => Backend::Postgres,
    };
    for chunk in rows.chunks(per_statement * width) {
        let sql = bulk.text(backend, chunk.len() / width);
        super::on_tx!(tx, c => {
            // Not kept in the connection's statement cache: every row count is a different
            // text, and up to 100 of them (each up to 30,000 parameters) would stay prepared
            // on every connection that ever wrote a batch.
            let mut q = sqlx::query(&sql).persistent(false);
            for v in chunk {
                q = match v {
                    Value::I(n) => q.bind(*n),
                    Value::T(s) => q.bind(s.as_str()),
                    Value::N(s) => q.bind(s.as_deref()),
                    Value::NI(n) => q.bind(*n),
                };
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Declares multi-row inserts and lists them in the module's `BULK`.
macro_rules! bulk_inserts {
    ($( $(#[$meta:meta])* $name:ident = $table:literal ($($column:literal),+ $(,)?) $($suffix:literal)? ; )*) => {
        $(
            $(#[$meta])*
            pub(crate) const $name: $crate::db::sql::Bulk = $crate::db::sql::Bulk {
                name: stringify!($name),
                table: $table,
                columns: &[$($column),+],
                suffix: concat!("" $(, $suffix)?),
            };
        )*
        /// Every multi-row insert of this module, for the test that prepares them all.
        pub(crate) const BULK: &[&$crate::db::sql::Bulk] = &[$(&$name),*];
    };
}

pub(crate) use bulk_inserts;

/// Prepares one statement on `db` (checks that the database accepts it: tables, columns,
/// types), without running it. `Ok(false)` when the statement does not exist on this database.
pub async fn prepare(db: &Db, sql: &'static Sql) -> Result<bool, sqlx::Error> {
    let Some(text) = sql.text_on(db.backend()) else {
        return Ok(false);
    };
    prepare_text(db, text).await?;
    Ok(true)
}

/// Prepares the one-row form of a multi-row insert.
pub async fn prepare_bulk(db: &Db, bulk: &'static Bulk) -> Result<(), sqlx::Error> {
    prepare_text(db, &bulk.text(db.backend(), 1)).await
}

async fn prepare_text(db: &Db, text: &str) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    match db {
        // The write connection: preparing never writes, and SQLite prepares against the schema
        // as that connection sees it.
        Db::Sqlite { write, .. } => write.prepare(text).await.map(|_| ()),
        Db::Postgres(pool) => pool.prepare(text).await.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    statements! {
        SAME = "SELECT 1";
        SPLIT = "SELECT 'sqlite'", "SELECT 'postgres'";
        ONLY_PG = "", "SELECT pg_backend_pid()";
        PAIR = @dialects ["SELECT 2", "SELECT 3"];
    }

    bulk_inserts! {
        PAIRS = "pairs" ("a", "b") "ON CONFLICT DO NOTHING";
    }

    #[test]
    fn texts_by_database() {
        assert_eq!(SAME.text_on(Backend::Sqlite), Some("SELECT 1"));
        assert_eq!(SAME.text_on(Backend::Postgres), Some("SELECT 1"));
        assert_eq!(SPLIT.text_on(Backend::Postgres), Some("SELECT 'postgres'"));
        assert_eq!(ONLY_PG.text_on(Backend::Sqlite), None);
        assert_eq!(ONLY_PG.text::<sqlx::Sqlite>(), NOT_ON_THIS_DATABASE);
        assert_eq!(STATEMENTS.len(), 4);
        assert_eq!(PAIR.text_on(Backend::Postgres), Some("SELECT 3"));
        assert_eq!(SPLIT.name, "SPLIT");
    }

    /// The seam holds only if every query goes through a named statement: outside this module
    /// (and the run-time SQL for tests in `testing.rs`), nothing in the crate, its tests or
    /// its benchmarks calls sqlx's query functions.
    #[test]
    fn no_query_bypasses_the_named_statements() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let allowed = ["src/db/sql.rs", "src/db/testing.rs"];
        let mut offenders = Vec::new();
        let mut stack: Vec<std::path::PathBuf> = ["src", "tests", "benches"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let relative = path
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().into_owned());
                let Ok(relative) = relative else { continue };
                if !relative.ends_with(".rs") || allowed.contains(&relative.as_str()) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if [
                    "sqlx::query(",
                    "sqlx::query_as",
                    "sqlx::query_scalar",
                    "sqlx::raw_sql",
                ]
                .iter()
                .any(|call| text.contains(call))
                {
                    offenders.push(relative);
                }
            }
        }
        offenders.sort();
        assert!(
            offenders.is_empty(),
            "SQL outside the named statements: {offenders:?}"
        );
    }

    #[test]
    fn bulk_texts() {
        assert_eq!(
            PAIRS.text(Backend::Postgres, 2),
            "INSERT INTO pairs (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            PAIRS.text(Backend::Sqlite, 1),
            "INSERT INTO pairs (a, b) VALUES (?, ?) ON CONFLICT DO NOTHING"
        );
        assert_eq!(PAIRS.rows_per_statement(30_000), 15_000);
        assert_eq!(BULK.len(), 1);
    }
}
