//! Reminders (催报). Before each deadline of a phase that gates activity reporting — 7, 3 and
//! 1 days before — every unit behind its quota gets a reminder in Wangju and by e-mail to its
//! admins. Admins may also remind a unit in their scope by hand.
//!
//! The job is safe on any number of nodes at once: each reminder is created under a UNIQUE
//! key (`INSERT … ON CONFLICT DO NOTHING`), and each e-mail is claimed by compare-and-set with
//! a lease, so it goes out once; a failed e-mail is retried with backoff. `wangju serve` runs a
//! pass every minute; `wangju reminders run` runs one (for cron).

use crate::domain::ids::{OrgId, UserId};
use std::collections::HashSet;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Serialize;

use crate::app::AppState;
use crate::clock::unix_now;
use crate::config::SmtpSettings;
use crate::db::Db;
use crate::db::audit::{self, Actor, Event};
use crate::db::orgs::{self, Scope};
use crate::db::reminders::{self as db_reminders, NewReminder};
use crate::domain::campaign::PhaseAction;
use crate::domain::reminder::{Deadline, due_bucket, reminder_text};
use crate::error::{AppError, Doing};
use crate::mail::{Mailer, Recipient};
use crate::service::acting::Acting;
use crate::service::progress::{self, ProgressRow};

/// What one pass did.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct PassReport {
    /// Reminders created (in-app notices) by this pass.
    pub created: usize,
    /// E-mails sent.
    pub mailed: usize,
    /// E-mails that failed (to be retried).
    pub failed: usize,
    /// E-mails not sent: no admin address, deadline passed, or no mail server.
    pub skipped: usize,
}

/// Who automatic reminders are from, as shown.
pub const AUTO_SENDER: &str = "网聚自动提醒";

/// The deadlines of phases that gate activity reporting that lie ahead of `today` (or on it).
fn upcoming(campaign: &crate::domain::campaign::Campaign, today: NaiveDate) -> Vec<Deadline> {
    let mut list: Vec<Deadline> = campaign
        .phases
        .iter()
        .filter(|p| p.allows.contains(&PhaseAction::ReportActivities) && p.ends_on >= today)
        .map(|p| Deadline {
            phase: p.name.clone(),
            date: p.ends_on,
            days_left: (p.ends_on - today).num_days(),
        })
        .collect();
    list.sort_by_key(|d| d.date);
    list
}

fn behind(row: &ProgressRow) -> bool {
    row.quota.is_some_and(|q| q > 0 && row.counts.confirmed < q)
}

/// Creates the reminders due `today` that do not exist yet. Returns how many this call made.
pub async fn create_due(db: &Db, today: NaiveDate) -> Result<usize, AppError> {
    let Some(campaign) = crate::db::campaigns::current(db).await? else {
        return Ok(0);
    };
    let due: Vec<(Deadline, i64)> = upcoming(&campaign.campaign, today)
        .into_iter()
        .filter_map(|d| due_bucket(d.days_left).map(|k| (d, k)))
        .collect();
    let mut created = summary_due(db, &campaign, today).await?;
    if due.is_empty() {
        return Ok(created);
    }
    let p = progress::progress(db, &Scope::everything()).await?;
    for (deadline, bucket) in &due {
        let prefix = format!("auto:{}:{}:{bucket}:", campaign.id, deadline.date);
        let taken: HashSet<String> = db_reminders::keys_with_prefix(db, &prefix)
            .await?
            .into_iter()
            .collect();
        for row in p.rows.iter().filter(|r| behind(r)) {
            let key = format!("{prefix}{}", row.org_id);
            if taken.contains(&key) {
                continue;
            }
            let message = reminder_text(row.quota, row.counts.confirmed, Some(deadline));
            let mut tx = db.begin().await?;
            let id = db_reminders::insert(
                &mut tx,
                &NewReminder {
                    campaign_id: campaign.id,
                    org_id: row.org_id,
                    kind: "auto",
                    dedup_key: Some(&key),
                    deadline: Some(deadline.date.to_string()),
                    days_before: Some(*bucket),
                    message: &message,
                    note: None,
                    sender_id: None,
                    sender_label: AUTO_SENDER,
                    now: unix_now(),
                },
            )
            .await?;
            // Another node made it first: nothing to record.
            let Some(id) = id else { continue };
            audit::append(
                &mut tx,
                &Actor::system(),
                Event {
                    action: "reminder.auto",
                    object_type: "org",
                    object_id: row.org_id.to_string(),
                    before: None,
                    after: Some(serde_json::json!({
                        "reminder_id": id, "deadline": deadline.date.to_string(),
                        "days_before": bucket, "message": message,
                    })),
                },
            )
            .await?;
            tx.commit().await?;
            created += 1;
        }
    }
    Ok(created)
}

/// The district-summary reminders due `today` (7, 3 and 1 days before the campaign's
/// `district_summary_due`), to the districts that have not submitted yet. Kind `summary`.
async fn summary_due(
    db: &Db,
    campaign: &crate::db::campaigns::StoredCampaign,
    today: NaiveDate,
) -> Result<usize, AppError> {
    let Some(due) = campaign.campaign.district_summary_due else {
        return Ok(0);
    };
    let Some(bucket) = due_bucket((due - today).num_days()) else {
        return Ok(0);
    };
    let prefix = format!("summary:{}:{due}:{bucket}:", campaign.id);
    let taken: HashSet<String> = db_reminders::keys_with_prefix(db, &prefix)
        .await?
        .into_iter()
        .collect();
    let submitted: HashSet<i64> = crate::db::summary::districts(db, campaign.id)
        .await?
        .into_iter()
        .map(|d| d.org_id)
        .collect();
    let mut created = 0;
    for org in crate::service::summary::districts(db).await? {
        let key = format!("{prefix}{}", org.id);
        if taken.contains(&key) || submitted.contains(&org.id.0) {
            continue;
        }
        let message = crate::domain::reminder::summary_text(due, today);
        let mut tx = db.begin().await?;
        let id = db_reminders::insert(
            &mut tx,
            &NewReminder {
                campaign_id: campaign.id,
                org_id: org.id,
                kind: "summary",
                dedup_key: Some(&key),
                deadline: Some(due.to_string()),
                days_before: Some(bucket),
                message: &message,
                note: None,
                sender_id: None,
                sender_label: AUTO_SENDER,
                now: unix_now(),
            },
        )
        .await?;
        let Some(id) = id else { continue };
        audit::append(
            &mut tx,
            &Actor::system(),
            Event {
                action: "reminder.summary",
                object_type: "org",
                object_id: org.id.to_string(),
                before: None,
                after: Some(serde_json::json!({
                    "reminder_id": id, "deadline": due.to_string(),
                    "days_before": bucket, "message": message,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        created += 1;
    }
    Ok(created)
}

/// Seconds to wait before retry number `attempts` + 1: 1, 2, 4, 8 … minutes, at most an hour.
fn backoff(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 7) - 1).unwrap_or(0);
    (60 * 2_i64.pow(exp)).min(3600)
}

fn subject(org_name: &str, kind: &str) -> String {
    if kind == "summary" {
        format!("【网聚】活动总结提交提醒：{org_name}")
    } else if kind == "manual" {
        format!("【网聚】线下活动催报：{org_name}")
    } else {
        format!("【网聚】线下活动任务提醒：{org_name}")
    }
}

fn body(org_name: &str, c: &db_reminders::Claimed) -> String {
    let mut text = format!("{org_name}：\n\n{}\n", c.message);
    if let Some(note) = c.note.as_deref().filter(|n| !n.is_empty()) {
        text.push_str(&format!("\n附言：{note}\n"));
    }
    let ask = if c.kind == "summary" {
        "请登录网聚，在“本单位活动总结”页面填写并提交。"
    } else {
        "请登录网聚查看任务完成情况并报送线下活动。只有市总确认的活动计入任务完成数。"
    };
    text.push_str(&format!(
        "\n{ask}\n\n{}\n（此邮件由系统发出，请勿直接回复。）\n",
        c.sender_label
    ));
    text
}

/// Sends the e-mails that are due. Without a mail server they are marked skipped.
pub async fn deliver(
    db: &Db,
    today: NaiveDate,
    smtp: Option<&SmtpSettings>,
) -> Result<PassReport, AppError> {
    let mut report = PassReport::default();
    let Some(smtp) = smtp else {
        report.skipped = usize::try_from(
            db_reminders::skip_all_pending(db, "未配置邮件服务器（[smtp]），只发站内提醒").await?,
        )
        .unwrap_or(0);
        return Ok(report);
    };
    let mailer = match Mailer::new(smtp) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("reminder e-mail: {e}");
            return Ok(report);
        }
    };
    loop {
        let now = unix_now();
        let ids = db_reminders::due_mail(db, now, 50).await?;
        if ids.is_empty() {
            break;
        }
        let mut progressed = false;
        for id in ids {
            let Some(job) = db_reminders::claim(db, id, now).await? else {
                continue; // another node took it
            };
            progressed = true;
            let org_name = orgs::get(db, &Scope::everything(), job.org_id)
                .await?
                .map(|o| o.name)
                .unwrap_or_default();
            let stale = (job.kind == "auto" || job.kind == "summary")
                && job
                    .deadline
                    .as_deref()
                    .and_then(|d| d.parse::<NaiveDate>().ok())
                    .is_some_and(|d| d <= today);
            let to: Vec<Recipient> = db_reminders::recipients(db, job.org_id)
                .await?
                .into_iter()
                .map(|(name, email)| Recipient { name, email })
                .collect();
            let (status, error) = if stale {
                (
                    db_reminders::SKIPPED,
                    Some("截止日期已到，不再补发".to_string()),
                )
            } else if to.is_empty() {
                (
                    db_reminders::SKIPPED,
                    Some("本单位管理员账号均未登记电子邮箱".to_string()),
                )
            } else {
                match mailer
                    .send(
                        &to,
                        &subject(&org_name, &job.kind),
                        &body(&org_name, &job),
                        &job.message_key(),
                    )
                    .await
                {
                    Ok(()) => (db_reminders::SENT, None),
                    Err(e) => {
                        tracing::warn!(
                            reminder = job.id,
                            attempt = job.mail_attempts,
                            "reminder e-mail failed: {e}"
                        );
                        (db_reminders::FAILED, Some(e))
                    }
                }
            };
            match status {
                db_reminders::SENT => report.mailed += 1,
                db_reminders::FAILED => report.failed += 1,
                _ => report.skipped += 1,
            }
            let recipients = if status == db_reminders::SENT {
                i64::try_from(to.len()).unwrap_or(0)
            } else {
                0
            };
            let done = unix_now();
            db_reminders::finish_mail(
                db,
                job.id,
                status,
                error.as_deref(),
                recipients,
                done,
                done + backoff(job.mail_attempts),
            )
            .await?;
        }
        if !progressed {
            break;
        }
    }
    Ok(report)
}

/// One pass: create what is due, then send what is waiting.
pub async fn run_pass(
    db: &Db,
    today: NaiveDate,
    smtp: Option<&SmtpSettings>,
) -> Result<PassReport, AppError> {
    // A closed (archived) campaign sends no reminders: nothing can be reported any more.
    if crate::db::archive::current_is_closed(db).await? {
        return Ok(PassReport::default());
    }
    let created = create_due(db, today).await?;
    let mut report = deliver(db, today, smtp).await?;
    report.created = created;
    crate::telemetry::reminder_mails("sent", report.mailed);
    crate::telemetry::reminder_mails("failed", report.failed);
    crate::telemetry::reminder_mails("skipped", report.skipped);
    Ok(report)
}

/// The background job of `wangju serve`: a pass every minute, on the app's clock.
pub async fn ticker(state: AppState) {
    let mut interval = tokio::time::interval(Duration::from_secs(60));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        // Each pass runs as a task of its own: should anything in it panic, that pass fails
        // and is logged, and the next minute's pass runs as usual.
        let pass_state = state.clone();
        let pass = tokio::spawn(async move {
            run_pass(
                &pass_state.db,
                pass_state.clock.today(),
                pass_state.settings.smtp.as_ref(),
            )
            .await
        });
        let outcome = match pass.await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!("reminder pass panicked: {e}");
                continue;
            }
        };
        match outcome {
            Ok(r) if r.created + r.mailed + r.failed > 0 => tracing::info!(
                created = r.created,
                mailed = r.mailed,
                failed = r.failed,
                skipped = r.skipped,
                "reminders"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!("reminder pass failed: {e:?}"),
        }
    }
}

/// The longest note an admin may add to a manual reminder.
pub const MAX_NOTE_CHARS: usize = 500;

/// An admin reminds a unit in its scope by hand (the city any unit; a unit admin the units
/// below it). The text says what the unit is behind on, and the next reporting deadline.
/// Audited. Returns the reminder's id; the e-mail goes out with the next delivery.
pub async fn send_manual(
    db: &Db,
    acting: &Acting,
    org_id: OrgId,
    note: &str,
    today: NaiveDate,
) -> Result<i64, AppError> {
    let org = orgs::get(db, &acting.scope, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if org.id == acting.org.id {
        return Err(AppError::invalid(
            "单位",
            "不能给本单位发催报；请选择下级单位",
        ));
    }
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::invalid(
            "附言",
            format!("附言不超过 {MAX_NOTE_CHARS} 字"),
        ));
    }
    let campaign = crate::service::acting::current_campaign(db).await?;
    let p = progress::progress(db, &acting.scope).await?;
    let (quota, confirmed) = match p.rows.iter().find(|r| r.org_id == org.id) {
        Some(row) => (row.quota, row.counts.confirmed),
        // A union without a quota of its own (e.g. a grassroots union) may still be asked to
        // report what it holds.
        None if progress::is_unit(&org) => (
            None,
            db_reminders::confirmed_in_subtree(db, campaign.id, &org.path).await?,
        ),
        None => {
            return Err(AppError::invalid(
                "单位",
                format!("“{}”不承担线下活动任务，无需催报", org.name),
            ));
        }
    };
    let deadline = upcoming(&campaign.campaign, today).into_iter().next();
    let message = reminder_text(quota, confirmed, deadline.as_ref());
    let sender_label = format!("{} {}", acting.org.name, acting.actor.login);
    let sender_label = match crate::db::users::by_id(db, acting.user_id).await? {
        Some(u) => format!("{} {}", acting.org.name, u.display_name),
        None => sender_label,
    };
    let mut tx = db.begin().await?;
    let id = db_reminders::insert(
        &mut tx,
        &NewReminder {
            campaign_id: campaign.id,
            org_id: org.id,
            kind: "manual",
            dedup_key: None,
            deadline: deadline.as_ref().map(|d| d.date.to_string()),
            days_before: deadline.as_ref().map(|d| d.days_left),
            message: &message,
            note: (!note.is_empty()).then_some(note),
            sender_id: Some(acting.user_id),
            sender_label: &sender_label,
            now: unix_now(),
        },
    )
    .await?
    .doing("inserting a manual reminder")?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "reminder.send",
            object_type: "org",
            object_id: org.id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "reminder_id": id, "message": message, "note": note,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Marks a reminder to the reader's own unit as read. Not audited: it changes only the
/// reader's own view.
pub async fn mark_read(db: &Db, org_id: OrgId, user_id: UserId, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let found = db_reminders::mark_read(&mut tx, id, org_id, user_id, unix_now()).await?;
    if !found {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}
