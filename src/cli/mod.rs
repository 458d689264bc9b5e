//! The `wangju` command: the clap definitions of every subcommand, start-up (settings, the app,
//! the first admin's banner) and dispatch. Each command group runs in a module of its own:
//! `serve` (serve, migrate), `campaign`, `org`, `user`, `export`, `reminders`, `audit`, `demo`;
//! `media` is `media::command`, beside the media library it drives.

mod audit;
mod backup;
mod calendar;
mod campaign;
mod demo;
mod export;
mod org;
mod reminders;
mod serve;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::app::App;
use crate::config::{Overrides, Settings};
use crate::db::audit::Actor;
use crate::error::AppError;

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
    /// Working days: the holiday arrangement per year (with 调休 working weekends).
    #[command(subcommand)]
    Calendar(CalendarCommand),
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
    /// A consistent backup while the server runs: the database (SQLite snapshot, or pg_dump of
    /// one snapshot) and a local file store, with a manifest of the counts at that moment.
    Backup {
        /// A new (or empty) folder for this backup.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Restore a backup into a new data folder (--data-dir) or an empty PostgreSQL database
    /// (--database-url), then check its counts and audit log.
    Restore {
        /// The backup folder (made by `wangju backup`).
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Fill the database with generated data (the same every time): `city` is the Tianjin tree
    /// with ~300 units, activities at 40–130% of each unit's Annex 1 quota (~200) and ~12,000
    /// check-ins, those reported held before today (`WANGJU_TODAY`); `national` is 31
    /// provinces, ~3,000 units, ~100,000 activities and ~1,000,000 check-ins.
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
    /// Write everything of a campaign into one zip for the union's records (data as Excel and
    /// JSON, the campaign file, the audit log with its chain, accepted works' files, photos, a
    /// manifest with every entry's SHA-256); or, with --verify, check such a zip.
    Archive {
        /// The campaign (the current one).
        #[arg(long, required_unless_present = "verify")]
        code: Option<String>,
        #[arg(long, value_name = "FILE.zip", required_unless_present = "verify")]
        out: Option<PathBuf>,
        /// Check an archive against its manifest and its audit chain; exits 1 on any mismatch.
        #[arg(long, value_name = "FILE.zip", conflicts_with_all = ["code", "out"])]
        verify: Option<PathBuf>,
    },
    /// Make a campaign read-only (结束活动) after its archive was written.
    Close {
        #[arg(long)]
        code: String,
    },
    /// Reopen a closed campaign (only here, never from the web), with the reason audited.
    Reopen {
        #[arg(long)]
        code: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print the date the Nth working day falls on, counting --from itself as the first when it
    /// is a working day (as a 公示 starting that day does).
    Workdays {
        /// First day, YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: chrono::NaiveDate,
        /// How many working days (1 to 260).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::domain::calendar::MAX_COUNT)))]
        count: u32,
    },
    /// Load one year's holiday arrangement (TOML, format in docs/calendar-format.md); it
    /// replaces the built-in or earlier loaded year.
    Import { file: PathBuf },
    /// Print one year's arrangement as a file.
    Export {
        #[arg(long, value_name = "YYYY")]
        year: i32,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List the years known, with their source notice.
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
    /// The campaign summary (活动总结) from live data: the Word document with its charts and
    /// the Excel appendix, written into FOLDER under their proper names.
    Summary {
        #[arg(long, value_name = "FOLDER")]
        out: PathBuf,
    },
    /// The recommendation package (推荐材料) as one zip: the 推荐汇总表 (.xlsx), the 推荐表 (.docx,
    /// a page per work) and each work's clean file named 序号-作品名.扩展名 (streamed: flat memory).
    Recommendation {
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
        /// One sub-project's code (e.g. micro-video); default: every sub-project with a list.
        #[arg(long, value_name = "CODE")]
        sub_project: Option<String>,
        /// Address the links point to. Default: `public_url`, else http:// and `listen`.
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
    crate::telemetry::init_tracing(if bulk_writes {
        "wangju=info,tower_http=warn,sqlx=error"
    } else {
        "wangju=info,tower_http=warn,sqlx=warn"
    });
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
    // A poster is made from a file into a file, by a child process of the server.
    if let Command::Media(crate::media::command::MediaCommand::Poster { video, out }) = &cli.command
    {
        return Ok(crate::media::command::poster(video, out));
    }
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let settings = Settings::load(&overrides(&cli.storage, listen))?;
    // A restore writes into a new folder or an empty database: nothing may be created there
    // before it (start-up would make a fresh database with a first admin).
    if let Command::Restore { dir } = &cli.command {
        return backup::restore(&settings, dir).await;
    }
    // Checking an archive needs nothing but the file.
    if let Command::Campaign(CampaignCommand::Archive {
        verify: Some(file), ..
    }) = &cli.command
    {
        return campaign::verify(file.clone()).await;
    }
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
        Command::Serve { .. } => serve::serve(state, &settings).await?,
        Command::Migrate => serve::migrate(),
        Command::Campaign(command) => campaign::run(&state, &actor, command).await?,
        Command::Calendar(command) => calendar::run(db, &actor, command).await?,
        Command::Org(command) => org::run(db, &actor, command).await?,
        Command::User(command) => user::run(db, &actor, command).await?,
        Command::Export(command) => {
            export::run(db, &settings, state.clock.today(), command).await?
        }
        Command::Reminders(command) => {
            reminders::run(db, &settings, state.clock.today(), command).await?
        }
        Command::Audit(command) => return audit::run(db, command).await,
        Command::Media(command) => return crate::media::command::run(db, command).await,
        Command::Demo(command) => {
            demo::run(db, &state.store, &actor, state.clock.today(), command).await?
        }
        Command::Backup { out } => backup::backup(db, &settings, &out).await?,
        Command::Restore { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
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
