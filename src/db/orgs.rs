//! The org tree. Each org keeps a materialised path of ids (`/1/5/23/`), so "this account's
//! subtree" is one indexed prefix match on both databases.

use serde::Serialize;

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::org::OrgKind;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Org {
    pub id: OrgId,
    pub parent_id: Option<OrgId>,
    pub name: String,
    /// What kind of body it is (stored as its code, e.g. `district_union`).
    pub kind: OrgKind,
    pub contact_name: Option<String>,
    /// Stored whole; pages mask it by role.
    pub contact_phone: Option<String>,
    pub path: String,
    pub depth: i64,
}

impl Org {
    /// A union body: holds activities, and workers belong to it (see `OrgKind::is_union`).
    pub fn is_union(&self) -> bool {
        self.kind.is_union()
    }

    pub fn kind_label(&self) -> &'static str {
        self.kind.label_zh()
    }

    /// Whether `other` lies in this org's subtree (itself included).
    pub fn contains(&self, other: &Org) -> bool {
        other.path.starts_with(&self.path)
    }
}

/// The part of the tree an account may see: every org whose path starts with `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub prefix: String,
}

impl Scope {
    pub fn everything() -> Scope {
        Scope {
            prefix: "/".to_string(),
        }
    }

    pub fn subtree(org: &Org) -> Scope {
        Scope {
            prefix: org.path.clone(),
        }
    }

    pub fn contains(&self, org: &Org) -> bool {
        org.path.starts_with(&self.prefix)
    }

    fn like(&self) -> String {
        format!("{}%", self.prefix)
    }
}

const SELECT: &str =
    "SELECT id, parent_id, name, kind, contact_name, contact_phone, path, depth FROM orgs";

statements! {
    /// Orgs under a path prefix, optionally by a substring of the name (`$2` empty: all).
    LIST = const_format::concatcp!(SELECT,
        " WHERE path LIKE $1 AND ($2 = '' OR name LIKE $3 ESCAPE '\\') ORDER BY depth, id");
    GET_IN_SCOPE = const_format::concatcp!(SELECT, " WHERE id = $1 AND path LIKE $2");
    GET = const_format::concatcp!(SELECT, " WHERE id = $1");
    BY_NAME = const_format::concatcp!(SELECT, " WHERE name = $1");
    ALL = const_format::concatcp!(SELECT, " ORDER BY depth, id");
    INSERT = "INSERT INTO orgs (parent_id, name, kind, contact_name, contact_phone, path, depth, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, '', $6, $7, $7) RETURNING id";
    SET_PATH = "UPDATE orgs SET path = $1 WHERE id = $2";
    UPDATE_DETAILS = "UPDATE orgs SET name = $1, kind = $2, contact_name = $3, contact_phone = $4, updated_at = $5 WHERE id = $6";
    /// Re-roots a subtree: every path under the old prefix gets the new one.
    MOVE_SUBTREE = "UPDATE orgs SET path = $1 || substr(path, CAST($2 AS INTEGER)), depth = depth + $3, updated_at = $4 WHERE path LIKE $5";
    SET_PARENT = "UPDATE orgs SET parent_id = $1 WHERE id = $2";
    COUNT = "SELECT COUNT(*) FROM orgs";
    BY_INVITE = const_format::concatcp!(SELECT,
        " WHERE id = (SELECT org_id FROM union_invites WHERE token = $1)");
    INVITE_TOKEN = "SELECT token FROM union_invites WHERE org_id = $1";
    INVITE_REPLACE = "INSERT INTO union_invites (org_id, token, created_by, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id) DO UPDATE SET token = excluded.token, created_by = excluded.created_by, created_at = excluded.created_at";
    INVITE_KEEP = "INSERT INTO union_invites (org_id, token, created_by, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id) DO NOTHING";
}

/// Orgs in scope, in tree order (by path of ids, then name), optionally filtered by a
/// substring of the name.
pub async fn list(db: &Db, scope: &Scope, search: Option<&str>) -> Result<Vec<Org>, sqlx::Error> {
    let needle = search.map(str::trim).unwrap_or_default();
    let pattern = format!("%{}%", escape_like(needle));
    on_pool!(db, pool => query_as::<_, Org>(&LIST)
        .bind(scope.like())
        .bind(needle)
        .bind(pattern)
        .fetch_all(pool)
        .await)
}

/// One org, if it exists and lies in scope. Out of scope is the same as missing.
pub async fn get(db: &Db, scope: &Scope, id: OrgId) -> Result<Option<Org>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Org>(&GET_IN_SCOPE)
        .bind(id)
        .bind(scope.like())
        .fetch_optional(pool)
        .await)
}

pub async fn get_by_id(db: &Db, id: OrgId) -> Result<Option<Org>, sqlx::Error> {
    get(db, &Scope::everything(), id).await
}

pub async fn find_by_name_tx(tx: &mut Tx, name: &str) -> Result<Option<Org>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, Org>(&BY_NAME).bind(name).fetch_optional(c).await)
}

pub async fn get_tx(tx: &mut Tx, id: OrgId) -> Result<Option<Org>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, Org>(&GET).bind(id).fetch_optional(c).await)
}

pub async fn find_by_name(db: &Db, name: &str) -> Result<Option<Org>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Org>(&BY_NAME).bind(name).fetch_optional(pool).await)
}

/// Every org, for export and import planning.
pub async fn all_tx(tx: &mut Tx) -> Result<Vec<Org>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, Org>(&ALL).fetch_all(c).await)
}

pub struct NewOrg<'a> {
    pub parent: Option<&'a Org>,
    pub name: &'a str,
    pub kind: OrgKind,
    pub contact_name: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
}

/// Inserts an org under its parent and fills in its path.
pub async fn insert(tx: &mut Tx, new: NewOrg<'_>) -> Result<Org, sqlx::Error> {
    let now = unix_now();
    let depth = new.parent.map_or(0, |p| p.depth + 1);
    let parent_path = new.parent.map_or("/", |p| p.path.as_str()).to_string();
    let id: OrgId = on_tx!(tx, c => query_scalar(&INSERT)
        .bind(new.parent.map(|p| p.id))
        .bind(new.name)
        .bind(new.kind.code())
        .bind(new.contact_name)
        .bind(new.contact_phone)
        .bind(depth)
        .bind(now)
        .fetch_one(c)
        .await)?;
    let path = format!("{parent_path}{id}/");
    on_tx!(tx, c => query(&SET_PATH)
        .bind(&path)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(Org {
        id,
        parent_id: new.parent.map(|p| p.id),
        name: new.name.to_string(),
        kind: new.kind,
        contact_name: new.contact_name.map(str::to_string),
        contact_phone: new.contact_phone.map(str::to_string),
        path,
        depth,
    })
}

/// Changes name, kind and contact in place.
pub async fn update_details(
    tx: &mut Tx,
    id: OrgId,
    name: &str,
    kind: OrgKind,
    contact_name: Option<&str>,
    contact_phone: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&UPDATE_DETAILS)
        .bind(name)
        .bind(kind.code())
        .bind(contact_name)
        .bind(contact_phone)
        .bind(unix_now())
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves `org` (with its subtree) under `new_parent`. The caller has checked that
/// `new_parent` is not inside `org`'s subtree.
pub async fn move_under(tx: &mut Tx, org: &Org, new_parent: &Org) -> Result<(), sqlx::Error> {
    let new_path = format!("{}{}/", new_parent.path, org.id);
    let depth_delta = new_parent.depth + 1 - org.depth;
    let old_len = org.path.chars().count() as i64;
    on_tx!(tx, c => query(&MOVE_SUBTREE)
        .bind(&new_path)
        .bind(old_len + 1)
        .bind(depth_delta)
        .bind(unix_now())
        .bind(format!("{}%", org.path))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    on_tx!(tx, c => query(&SET_PARENT)
        .bind(new_parent.id)
        .bind(org.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Counts of orgs by kind in scope, for the overview.
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&COUNT).fetch_one(pool).await)
}

/// `text` for a LIKE pattern with `ESCAPE '\'`: its `%`, `_` and `\` match themselves.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The union a registration link belongs to.
pub async fn by_invite(db: &Db, token: &str) -> Result<Option<Org>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Org>(&BY_INVITE).bind(token).fetch_optional(pool).await)
}

/// The org's registration link token, if one was made.
pub async fn invite_token(db: &Db, org_id: OrgId) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&INVITE_TOKEN)
        .bind(org_id).fetch_optional(pool).await)
}

/// Gives the org the registration token `token`: replacing any earlier one, or (`replace`
/// false) only if it has none, so two first uses at once agree on one token.
pub async fn set_invite_token(
    tx: &mut Tx,
    org_id: OrgId,
    token: &str,
    by: Option<UserId>,
    replace: bool,
) -> Result<(), sqlx::Error> {
    let sql = if replace {
        &INVITE_REPLACE
    } else {
        &INVITE_KEEP
    };
    on_tx!(tx, c => query(sql)
        .bind(org_id).bind(token).bind(by).bind(unix_now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
