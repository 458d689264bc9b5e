//! `wangju demo seed`: fills the database with the generated demo campaign (`service::demo`)
//! and prints what it made, with the demo admins' one-time password.

use anyhow::Context;
use chrono::NaiveDate;

use super::{DemoCommand, report};
use crate::db::Db;
use crate::db::audit::Actor;

pub(super) async fn run(
    db: &Db,
    store: &crate::store::FileStore,
    actor: &Actor,
    today: NaiveDate,
    command: DemoCommand,
) -> anyhow::Result<()> {
    match command {
        DemoCommand::Seed { scale, force } => {
            use crate::service::demo;
            let scale = demo::Scale::parse(&scale).with_context(|| {
                format!("不认识的规模“{scale}”：可选 city（天津市）或 national（全国）")
            })?;
            println!(
                "正在生成{}演示数据……",
                if scale == demo::Scale::City {
                    "天津市规模的"
                } else {
                    "全国规模的"
                }
            );
            let r = demo::seed_as_of(db, scale, force, actor, today)
                .await
                .map_err(report)?;
            print_seed_report(&r);
            // The demo works' files go to the file store after the rows are committed.
            let files = demo::selection::store_files(db, store)
                .await
                .map_err(report)?;
            if files > 0 {
                println!("  演示作品文件：{files} 个（3 秒示例视频）");
            }
        }
    }
    Ok(())
}

fn print_seed_report(r: &crate::service::demo::SeedReport) {
    if r.replaced_activities > 0 {
        println!(
            "已删除原有的 {} 个线下活动及其签到、宣传员。",
            r.replaced_activities
        );
    }
    println!("已生成演示数据，用时 {:.1} 秒：", r.elapsed.as_secs_f64());
    println!(
        "  单位：{} 个（新建 {} 个），下级任务数 {} 条",
        r.units, r.orgs_created, r.quotas
    );
    let statuses: Vec<String> = r
        .by_status
        .iter()
        .map(|(s, n)| format!("{} {n}", s.label_zh()))
        .collect();
    println!("  线下活动：{} 个（{}）", r.activities, statuses.join("，"));
    println!("  扫码签到：{} 人次", r.checkins);
    println!("  宣传员：{} 名", r.propagandists);
    let reviewers = if r.selection.reviewers.is_empty() {
        String::new()
    } else {
        format!(
            "（{}，与管理员共用下面的一次性密码）",
            r.selection.reviewers.join("、")
        )
    };
    println!(
        "  评选：微视频作品 {} 件，评审专家 {} 位{reviewers}，初评分配 {} 份、已提交评分 {} 份",
        r.selection.works,
        r.selection.reviewers.len(),
        r.selection.assignments,
        r.selection.scores
    );
    println!(
        "  宣讲团：推荐人选 {} 名，成员 {} 人，宣讲申请 {} 场",
        r.lecture_team.nominations, r.lecture_team.members, r.lecture_team.lectures
    );
    println!(
        "  演示管理员账号 {} 个，共用一次性密码：{}（首次登录后须修改，此密码只显示这一次）",
        r.admins.len(),
        r.password
    );
    for (login, unit) in &r.admins {
        println!("    {login}\t{unit}");
    }
}
