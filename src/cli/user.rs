//! `wangju user`: creating an account (a moderator with its sub-projects) and resetting a
//! password; both print the one-time password.

use anyhow::Context;

use super::{UserCommand, report};
use crate::db::Db;
use crate::db::audit::Actor;
use crate::db::orgs::Scope;
use crate::db::users;
use crate::domain::role::Role;
use crate::service::accounts;

pub(super) async fn run(db: &Db, actor: &Actor, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            login,
            name,
            role,
            org,
            phone,
            email,
            moderate,
        } => {
            let org = crate::db::orgs::find_by_name(db, org.trim())
                .await?
                .with_context(|| format!("没有名为“{org}”的单位"))?;
            let input = accounts::NewAccount {
                login,
                display_name: name,
                phone,
                email,
                role,
                org_id: org.id,
            };
            if !moderate.is_empty() && input.role != Role::Moderator.code() {
                anyhow::bail!("--moderate 只用于审核员（--role moderator）账号");
            }
            // Checked before the account is made, so a typo leaves nothing half-done.
            let campaign = crate::service::acting::current_campaign(db)
                .await
                .map_err(report)?;
            crate::service::works::moderated_codes(&campaign, &moderate).map_err(report)?;
            let (id, password) =
                accounts::create_account(db, &Scope::everything(), Role::CityAdmin, &input, actor)
                    .await
                    .map_err(report)?;
            if !moderate.is_empty() {
                crate::service::works::set_moderator_sub_projects(db, actor, None, id, &moderate)
                    .await
                    .map_err(report)?;
            }
            println!("已创建账号 {}，一次性密码：{password}", input.login.trim());
        }
        UserCommand::ResetPassword { login } => {
            let user = users::by_login(db, login.trim())
                .await?
                .with_context(|| format!("没有登录名为“{login}”的账号"))?;
            let password = accounts::reset_password(db, user.id, actor)
                .await
                .map_err(report)?;
            println!(
                "已重置 {} 的密码并解除锁定，一次性密码：{password}",
                user.login
            );
        }
    }
    Ok(())
}
