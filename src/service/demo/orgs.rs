//! Writing the planned tree: the new orgs in multi-row INSERTs, the sub-units' quotas, and one
//! demo admin account per district (or province).

use super::tree::Tree;
use crate::clock::unix_now;
use crate::db::Tx;
use crate::db::demo::{self as demo_db, Value as V};
use crate::db::users::{self, NewUser};
use crate::domain::ids::OrgId;
use crate::domain::role::Role;

/// The planned orgs that are not stored yet, with the ids the plan gave them.
pub(super) async fn insert_orgs(tx: &mut Tx, tree: &Tree) -> Result<usize, sqlx::Error> {
    let now = unix_now();
    let mut rows = Vec::new();
    let mut n = 0;
    for node in tree.nodes.iter().filter(|n| n.new) {
        n += 1;
        let parent_id = node.parent.map(|p| tree.nodes[p].id);
        rows.extend([
            V::I(node.id),
            V::NI(parent_id),
            V::T(node.name.clone()),
            V::T(node.kind.code().to_string()),
            V::N(node.contact.as_ref().map(|c| c.0.clone())),
            V::N(node.contact.as_ref().map(|c| c.1.clone())),
            V::T(node.path.clone()),
            V::I(node.depth),
            V::I(now),
            V::I(now),
        ]);
    }
    demo_db::insert(tx, &demo_db::ORGS, &rows).await?;
    Ok(n)
}

/// Sub-unit quotas (the districts keep Annex 1's), upserted one by one: a few hundred rows.
pub(super) async fn insert_quotas(
    tx: &mut Tx,
    campaign_id: i64,
    tree: &Tree,
) -> Result<usize, sqlx::Error> {
    let mut n = 0;
    for node in &tree.nodes {
        let Some(q) = node.quota else { continue };
        demo_db::upsert_quota(tx, campaign_id, OrgId(node.id), q).await?;
        n += 1;
    }
    Ok(n)
}

/// One unit admin per district (and province), all with the same one-time password. A re-run
/// gives existing demo accounts the new password.
pub(super) async fn upsert_admins(
    tx: &mut Tx,
    tree: &Tree,
    hash: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut admins = Vec::new();
    for node in &tree.nodes {
        let Some(login) = &node.admin_login else {
            continue;
        };
        let updated = demo_db::reset_admin(tx, login, hash, unix_now()).await?;
        if updated == 0 {
            let display = format!("{}管理员", node.short);
            users::insert(
                tx,
                NewUser {
                    login,
                    display_name: &display,
                    phone: None,
                    role: Role::UnitAdmin,
                    org_id: OrgId(node.id),
                    password_hash: hash,
                    must_change_password: true,
                },
            )
            .await?;
        }
        admins.push((login.clone(), node.name.clone()));
    }
    Ok(admins)
}
