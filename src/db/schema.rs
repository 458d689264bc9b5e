//! The migrated schema as the database reports it: tables, columns (type family and
//! nullability), primary keys and indexes. The two migration folders are written by hand, one
//! per database; a test compares what each produces, so a column or index added to one and
//! forgotten in the other is caught.

use std::collections::{BTreeMap, BTreeSet};

use super::sql::{query_as, statements};
use super::{Db, on_pool};

statements! {
    /// Columns of every table but SQLite's and sqlx's own.
    COLUMNS = "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type,
            CAST(p.\"notnull\" AS BIGINT) AS not_null, CAST(p.pk AS BIGINT) AS key_position
         FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
        "SELECT c.table_name::TEXT AS table_name, c.column_name::TEXT AS column_name, c.data_type::TEXT AS data_type,
            CAST(CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END AS BIGINT) AS not_null,
            CAST(COALESCE(k.ordinal_position, 0) AS BIGINT) AS key_position
         FROM information_schema.columns c
         LEFT JOIN information_schema.table_constraints t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.constraint_type = 'PRIMARY KEY'
         LEFT JOIN information_schema.key_column_usage k
           ON k.constraint_name = t.constraint_name AND k.table_schema = c.table_schema
          AND k.table_name = c.table_name AND k.column_name = c.column_name
         WHERE c.table_schema = current_schema() AND c.table_name NOT LIKE '_sqlx%'";
    /// Index columns in order, with uniqueness; primary-key indexes are left out (keys are
    /// compared from the columns).
    INDEXES = "SELECT m.name AS table_name, il.name AS index_name, CAST(il.\"unique\" AS BIGINT) AS is_unique,
            ii.name AS column_name, CAST(ii.seqno AS BIGINT) AS position
         FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' AND il.origin <> 'pk'",
        "SELECT t.relname::TEXT AS table_name, i.relname::TEXT AS index_name,
            CAST(CASE WHEN ix.indisunique THEN 1 ELSE 0 END AS BIGINT) AS is_unique,
            a.attname::TEXT AS column_name, CAST(k.ord - 1 AS BIGINT) AS position
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE n.nspname = current_schema() AND NOT ix.indisprimary AND t.relname NOT LIKE '_sqlx%'";
}

/// What a column holds, as far as both databases can agree: SQLite keeps booleans as
/// integers, so integers and booleans are one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Number,
    Text,
    Real,
    Other,
}

impl Family {
    fn of(declared: &str) -> Family {
        let t = declared.to_ascii_lowercase();
        if t.contains("int") || t == "boolean" {
            Family::Number
        } else if t.contains("text") || t.contains("char") {
            Family::Text
        } else if t.contains("real") || t.contains("double") || t.contains("float") {
            Family::Real
        } else {
            Family::Other
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub family: Family,
    pub not_null: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    /// Primary-key columns in key order.
    pub primary_key: Vec<String>,
    /// Each index as (its columns in order, unique). Names differ between the databases for
    /// unique constraints, so they are not compared.
    pub indexes: BTreeSet<(Vec<String>, bool)>,
}

pub type Schema = BTreeMap<String, Table>;

#[derive(sqlx::FromRow)]
struct ColumnRow {
    table_name: String,
    column_name: String,
    data_type: String,
    not_null: i64,
    key_position: i64,
}

#[derive(sqlx::FromRow)]
struct IndexRow {
    table_name: String,
    index_name: String,
    is_unique: i64,
    column_name: String,
    position: i64,
}

/// Reads the schema of `db`.
pub async fn describe(db: &Db) -> Result<Schema, sqlx::Error> {
    let columns: Vec<ColumnRow> =
        on_pool!(db, pool => query_as::<_, ColumnRow>(&COLUMNS).fetch_all(pool).await)?;
    let indexes: Vec<IndexRow> =
        on_pool!(db, pool => query_as::<_, IndexRow>(&INDEXES).fetch_all(pool).await)?;
    let mut schema = Schema::new();
    let mut keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for c in columns {
        let key = c.key_position > 0;
        if key {
            keys.entry(c.table_name.clone())
                .or_default()
                .push((c.key_position, c.column_name.clone()));
        }
        schema.entry(c.table_name).or_default().columns.insert(
            c.column_name,
            Column {
                family: Family::of(&c.data_type),
                // SQLite lets a non-integer primary key hold NULL unless declared NOT NULL;
                // PostgreSQL never does. Wangju never writes one, so keys count as NOT NULL.
                not_null: c.not_null != 0 || key,
            },
        );
    }
    for (table, mut columns) in keys {
        columns.sort();
        if let Some(t) = schema.get_mut(&table) {
            t.primary_key = columns.into_iter().map(|(_, name)| name).collect();
        }
    }
    /// (table, index) → (unique, columns with their positions).
    type Indexes = BTreeMap<(String, String), (bool, Vec<(i64, String)>)>;
    let mut by_index = Indexes::new();
    for i in indexes {
        let entry = by_index
            .entry((i.table_name, i.index_name))
            .or_insert((i.is_unique != 0, Vec::new()));
        entry.1.push((i.position, i.column_name));
    }
    for ((table, _), (unique, mut columns)) in by_index {
        columns.sort();
        let columns: Vec<String> = columns.into_iter().map(|(_, name)| name).collect();
        if let Some(t) = schema.get_mut(&table) {
            // A unique index on exactly the primary key is the key itself (SQLite makes one
            // for a composite or text key).
            if unique && columns == t.primary_key {
                continue;
            }
            t.indexes.insert((columns, unique));
        }
    }
    Ok(schema)
}

/// Human-readable differences between two schemas (empty when they agree).
pub fn differences(
    left_name: &str,
    left: &Schema,
    right_name: &str,
    right: &Schema,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, l) in left {
        let Some(r) = right.get(name) else {
            out.push(format!("table {name} exists on {left_name} only"));
            continue;
        };
        for (col, lc) in &l.columns {
            match r.columns.get(col) {
                None => out.push(format!("column {name}.{col} exists on {left_name} only")),
                Some(rc) if rc != lc => out.push(format!(
                    "column {name}.{col}: {left_name} {lc:?}, {right_name} {rc:?}"
                )),
                Some(_) => {}
            }
        }
        for col in r.columns.keys().filter(|c| !l.columns.contains_key(*c)) {
            out.push(format!("column {name}.{col} exists on {right_name} only"));
        }
        if l.primary_key != r.primary_key {
            out.push(format!(
                "primary key of {name}: {left_name} {:?}, {right_name} {:?}",
                l.primary_key, r.primary_key
            ));
        }
        for index in l.indexes.difference(&r.indexes) {
            out.push(format!(
                "index on {name} {index:?} exists on {left_name} only"
            ));
        }
        for index in r.indexes.difference(&l.indexes) {
            out.push(format!(
                "index on {name} {index:?} exists on {right_name} only"
            ));
        }
    }
    for name in right.keys().filter(|n| !left.contains_key(*n)) {
        out.push(format!("table {name} exists on {right_name} only"));
    }
    out
}
