//! The `wangju` command.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::App;
use crate::config::{Overrides, Settings};
use crate::db::audit::{self, Actor, Verdict};
use crate::db::orgs::Scope;
use crate::db::users::{self};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::office::tabular;
use crate::service::{accounts, campaigns, orgs as org_service};

#[derive(Parser)]
#[command(name = "wangju", version, about = "网聚：工会网上主题活动平台")]
struct Cli {
    #[command(flatten)]
    storage: StorageArgs,
    #[command(subcommand)]
    command: Command,
}

/// Storage options, shared by every command.
#[derive(Args, Clone)]
struct StorageArgs {
    /// Config file (TOML). Default: ./wangju.toml if present.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data folder (SQLite database and files). Env: WANGJU_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB. Env: WANGJU_DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        /// Address to listen on. Env: WANGJU_LISTEN. Default 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Create or update the database schema (serve does this too).
    Migrate,
    /// Campaign files.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// The org tree.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Excel exports of campaign progress.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Reminders (催报) to units behind their quota.
    #[command(subcommand)]
    Reminders(RemindersCommand),
    /// Media files: check them against a sub-project's file rules.
    #[command(subcommand)]
    Media(crate::media::command::MediaCommand),
    /// Demo data for trying the product and for benchmarks.
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Fill the database with generated data (the same every time): `city` is the Tianjin tree
    /// with ~300 units, ~2,000 activities and ~50,000 check-ins; `national` is 31 provinces,
    /// ~3,000 units, ~100,000 activities and ~1,000,000 check-ins.
    Seed {
        /// `city` or `national`.
        #[arg(long, default_value = "city")]
        scale: String,
        /// Delete every activity, check-in and propagandist first when there are any.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum CampaignCommand {
    /// Load a campaign file (TOML); a file with a known code updates that campaign in place.
    Import { file: PathBuf },
    /// Print a campaign file (default: the current campaign).
    Export {
        #[arg(long)]
        code: Option<String>,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Start a new year's campaign from an earlier one, moving its dates into that year.
    New {
        #[arg(long, value_name = "CODE")]
        from: String,
        #[arg(long, value_name = "YYYY")]
        year: i32,
        /// Make it the current campaign.
        #[arg(long)]
        activate: bool,
    },
    /// List campaigns.
    List,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Import orgs from .xlsx or .csv (单位名称, 上级单位, 类型, 联系人, 联系电话). All or nothing.
    Import { file: PathBuf },
    /// Export the tree as .xlsx or .csv (by the file name's extension; default CSV to stdout).
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; prints its one-time password.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// Role: city_admin, co_organiser_liaison, unit_admin, grassroots_admin, moderator, reviewer, worker.
        #[arg(long)]
        role: String,
        /// Name of the org the account belongs to.
        #[arg(long)]
        org: String,
        #[arg(long)]
        phone: Option<String>,
        /// Where reminders (催报) are mailed.
        #[arg(long)]
        email: Option<String>,
        /// For a moderator: the sub-projects it checks, by code, comma-separated (e.g.
        /// `micro-video`). The city admin can change them on the account's page.
        #[arg(long, value_delimiter = ',')]
        moderate: Vec<String>,
    },
    /// Give an account a new one-time password (and unlock it).
    ResetPassword {
        #[arg(long)]
        login: String,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The statistics sheet of the current campaign (one row per unit), as .xlsx.
    Progress {
        #[arg(long, value_name = "FILE.xlsx|FILE.docx")]
        out: PathBuf,
        /// `progress` (default), `allocation` (Annex 1's layout) or `circular` (通报; as Word when
        /// the file name ends in .docx).
        #[arg(long, default_value = "progress")]
        sheet: String,
    },
    /// Every activity of the current campaign, with links, as .xlsx (streamed: flat memory).
    Activities {
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
        /// Address the links point to. Default: http:// and the `listen` setting.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum RemindersCommand {
    /// One pass of the reminder job (what `serve` does every minute): create the reminders due
    /// today (7, 3 and 1 days before a reporting deadline) and send the e-mails waiting. Safe
    /// to run from cron on several nodes at once.
    Run,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exits non-zero when an entry was edited or deleted.
    Verify,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Seeding sends statements of tens of thousands of parameters; sqlx's slow-statement
    // warning would print each one whole.
    init_tracing(matches!(cli.command, Command::Demo(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(bulk_writes: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WANGJU_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if bulk_writes {
            "wangju=info,tower_http=warn,sqlx=error"
        } else {
            "wangju=info,tower_http=warn,sqlx=warn"
        })
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn overrides(storage: &StorageArgs, listen: Option<String>) -> Overrides {
    Overrides {
        config_file: storage.config.clone(),
        listen,
        data_dir: storage.data_dir.clone(),
        database_url: storage.database_url.clone(),
    }
}

/// Prints an application error the way the web would show it, with every field problem.
fn report(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|f| format!("  {}：{}", f.field, f.message))
                .collect();
            anyhow::anyhow!("内容有误，数据库未作任何改动：\n{}", lines.join("\n"))
        }
        AppError::Internal(e) => e,
        other => anyhow::anyhow!(other.message_zh()),
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let settings = Settings::load(&overrides(&cli.storage, listen))?;
    let (state, first_admin) = App::build(settings.clone()).await?;
    let db = &state.db;
    let actor = Actor::cli();
    if let Some(first) = &first_admin {
        let banner = format!(
            "已创建首个市总管理员账号。\n  登录名：{}\n  一次性密码：{}\n  首次登录后须立即修改密码。此密码只显示这一次。",
            first.login, first.one_time_password
        );
        // Commands whose output is data (exports, JSON) keep stdout clean for it.
        if matches!(cli.command, Command::Serve { .. } | Command::Migrate) {
            println!("{banner}");
        } else {
            eprintln!("{banner}");
        }
    }
    match cli.command {
        Command::Serve { .. } => {
            let listener = TcpListener::bind(settings.listen)
                .await
                .with_context(|| format!("无法监听 {}", settings.listen))?;
            let addr = listener.local_addr()?;
            println!("网聚已启动：http://{addr}/");
            crate::app::serve(state, listener).await?;
        }
        Command::Migrate => println!("数据库已是最新结构。"),
        Command::Campaign(CampaignCommand::Import { file }) => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("无法读取 {}", file.display()))?;
            let outcome = campaigns::import_toml(db, &source, &actor)
                .await
                .map_err(report)?;
            println!(
                "{}活动 {}（新建单位 {} 个）。",
                if outcome.created {
                    "已导入"
                } else {
                    "已更新"
                },
                outcome.code,
                outcome.orgs_created
            );
        }
        Command::Campaign(CampaignCommand::Export { code, out }) => {
            let text = campaigns::export_toml(db, code.as_deref())
                .await
                .map_err(report)?;
            write_out(out, text.as_bytes())?;
        }
        Command::Campaign(CampaignCommand::New {
            from,
            year,
            activate,
        }) => {
            let outcome = campaigns::new_for_year(db, &from, year, activate, &actor)
                .await
                .map_err(report)?;
            println!(
                "已从 {from} 新建 {year} 年活动 {}{}。",
                outcome.code,
                if activate {
                    "，并设为当前活动"
                } else {
                    ""
                }
            );
        }
        Command::Campaign(CampaignCommand::List) => {
            for (code, year, current) in crate::db::campaigns::list_codes(db).await? {
                println!("{code}\t{year}{}", if current { "\t当前" } else { "" });
            }
        }
        Command::Org(OrgCommand::Import { file }) => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("无法读取 {}", file.display()))?;
            let table = tabular::read(&bytes).map_err(|m| anyhow::anyhow!(m))?;
            let s = org_service::import(db, &Scope::everything(), &table, &actor)
                .await
                .map_err(report)?;
            println!(
                "导入完成：新建 {} 个，更新 {} 个，未变 {} 个。",
                s.created, s.updated, s.unchanged
            );
        }
        Command::Org(OrgCommand::Export { out }) => {
            let rows = org_service::export_rows(db, &Scope::everything(), true)
                .await
                .map_err(report)?;
            let xlsx = out.as_ref().is_some_and(|p| {
                p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
            });
            let bytes = if xlsx {
                tabular::write_xlsx("组织架构", &org_service::EXPORT_HEADER, &rows)
            } else {
                tabular::write_csv(&org_service::EXPORT_HEADER, &rows)
            }
            .map_err(|m| anyhow::anyhow!(m))?;
            audit::record(
                db,
                &actor,
                audit::Event {
                    action: "org.export",
                    object_type: "org",
                    object_id: String::new(),
                    before: None,
                    after: Some(serde_json::json!({ "rows": rows.len(), "unmasked": true })),
                },
            )
            .await?;
            write_out(out, &bytes)?;
        }
        Command::User(UserCommand::Add {
            login,
            name,
            role,
            org,
            phone,
            email,
            moderate,
        }) => {
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
                accounts::create_account(db, &Scope::everything(), Role::CityAdmin, &input, &actor)
                    .await
                    .map_err(report)?;
            if !moderate.is_empty() {
                crate::service::works::set_moderator_sub_projects(db, &actor, None, id, &moderate)
                    .await
                    .map_err(report)?;
            }
            println!("已创建账号 {}，一次性密码：{password}", input.login.trim());
        }
        Command::User(UserCommand::ResetPassword { login }) => {
            let user = users::by_login(db, login.trim())
                .await?
                .with_context(|| format!("没有登录名为“{login}”的账号"))?;
            let password = accounts::reset_password(db, user.id, &actor)
                .await
                .map_err(report)?;
            println!(
                "已重置 {} 的密码并解除锁定，一次性密码：{password}",
                user.login
            );
        }
        Command::Export(ExportCommand::Progress { out, sheet }) => {
            use crate::service::progress;
            let p = progress::progress(db, &Scope::everything())
                .await
                .map_err(report)?;
            let docx = out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("docx"));
            if docx && sheet != "circular" {
                anyhow::bail!(
                    "只有通报（--sheet circular）可以导出为 Word（.docx）；其他表请用 .xlsx"
                );
            }
            if docx {
                let bytes =
                    crate::service::circular::circular_docx(db, &p, "全市", state.clock.today())
                        .await
                        .map_err(report)?;
                write_out(Some(out.clone()), &bytes)?;
                println!("已导出 {}（Word 通报）。", out.display());
                return Ok(ExitCode::SUCCESS);
            }
            let bytes = match sheet.as_str() {
                "progress" => tabular::write_xlsx(
                    "统计表",
                    &progress::SHEET_HEADER,
                    &progress::sheet_rows(&p),
                ),
                "allocation" => tabular::write_xlsx(
                    "任务分配表",
                    &progress::ALLOCATION_HEADER,
                    &progress::allocation_rows(&p),
                ),
                "circular" => tabular::write_xlsx(
                    "通报",
                    &progress::CIRCULAR_HEADER,
                    &progress::circular_rows(&p),
                ),
                other => anyhow::bail!("不认识的表“{other}”：可选 progress、allocation、circular"),
            }
            .map_err(|m| anyhow::anyhow!(m))?;
            write_out(Some(out.clone()), &bytes)?;
            println!("已导出 {}（{} 个单位）。", out.display(), p.rows.len());
        }
        Command::Reminders(RemindersCommand::Run) => {
            let today = state.clock.today();
            let r = crate::service::reminders::run_pass(db, today, settings.smtp.as_ref())
                .await
                .map_err(report)?;
            println!(
                "催报（{today}）：新建提醒 {} 条，发出邮件 {} 封，失败 {} 封（稍后重试），未发 {} 封。",
                r.created, r.mailed, r.failed, r.skipped
            );
        }
        Command::Export(ExportCommand::Activities { out, base_url }) => {
            let base_url = base_url.unwrap_or_else(|| format!("http://{}", settings.listen));
            let rows = crate::service::activity_export::write_xlsx(
                db,
                &Scope::everything(),
                Some(base_url),
                &out,
            )
            .await
            .map_err(report)?;
            println!("已导出 {}（{rows} 个活动）。", out.display());
        }
        Command::Audit(AuditCommand::Verify) => match audit::verify(db).await? {
            Verdict::Intact { entries } => {
                println!("审计日志完整：共 {entries} 条，哈希链校验通过。")
            }
            Verdict::Broken { at_id, reason } => {
                eprintln!("审计日志已被篡改：{reason}（自第 {at_id} 条起）");
                return Ok(ExitCode::from(2));
            }
        },
        Command::Media(command) => return crate::media::command::run(db, command).await,
        Command::Demo(DemoCommand::Seed { scale, force }) => {
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
            let r = demo::seed(db, scale, force, &actor).await.map_err(report)?;
            print_seed_report(&r);
        }
    }
    Ok(ExitCode::SUCCESS)
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
    println!(
        "  演示管理员账号 {} 个，共用一次性密码：{}（首次登录后须修改，此密码只显示这一次）",
        r.admins.len(),
        r.password
    );
    for (login, unit) in &r.admins {
        println!("    {login}\t{unit}");
    }
}

fn write_out(out: Option<PathBuf>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(&path, bytes).with_context(|| format!("无法写入 {}", path.display()))
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(bytes)
                .context("无法写到标准输出")
        }
    }
}
