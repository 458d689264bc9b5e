//! The `wangju` command as an operator runs it.

use std::process::{Command, Output};

use wangju::db::Backend;

use crate::harness::{Storage, backends};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[tokio::test]
async fn first_run_prints_the_one_time_password_once() {
    for backend in backends() {
        let s = Storage::new(backend).await;
        let first = s.run(&["migrate"]);
        assert!(first.status.success(), "{}", stderr(&first));
        assert!(stdout(&first).contains("一次性密码："));
        let second = s.run(&["migrate"]);
        assert!(second.status.success());
        assert!(
            !stdout(&second).contains("一次性密码"),
            "printed only on the start that created it"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn campaign_import_reports_line_and_field_and_changes_nothing() {
    for backend in backends() {
        let s = Storage::new(backend).await;
        s.run(&["migrate"]);
        let exported = s.run(&["campaign", "export"]);
        assert!(exported.status.success());
        let text = stdout(&exported);
        assert!(text.contains("code = \"tianjin-2020\""));
        let bad = text.replacen(
            "grassroots_unions = 1000",
            "grassroots_unions = \"一千\"",
            1,
        );
        let line = bad
            .lines()
            .position(|l| l.contains("一千"))
            .map(|n| n + 1)
            .unwrap_or_default();
        let file = s.dir.path().join("bad.toml");
        std::fs::write(&file, bad).expect("write");
        let out = s.run(&["campaign", "import", &file.display().to_string()]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.contains(&format!("第 {line} 行")), "{err}");
        assert!(err.contains("数据库未作任何改动"));
        // The good file imports as an update in place.
        let good = s.dir.path().join("good.toml");
        std::fs::write(
            &good,
            text.replacen("min_activities = 10", "min_activities = 11", 1),
        )
        .expect("write");
        let out = s.run(&["campaign", "import", &good.display().to_string()]);
        assert!(
            stdout(&out).contains("已更新活动 tianjin-2020"),
            "{}",
            stderr(&out)
        );
        let again = stdout(&s.run(&["campaign", "export"]));
        assert!(again.contains("min_activities = 11"));
        // A new year.
        let out = s.run(&[
            "campaign",
            "new",
            "--from",
            "tianjin-2020",
            "--year",
            "2021",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&s.run(&["campaign", "list"])).contains("tianjin-2021"));
        s.finish().await;
    }
}

#[tokio::test]
async fn org_export_import_and_audit_verify() {
    for backend in backends() {
        let s = Storage::new(backend).await;
        s.run(&["migrate"]);
        let csv = s.dir.path().join("orgs.csv");
        std::fs::write(
            &csv,
            "单位名称,上级单位,类型\n东疆港区总工会,滨海新区总工会,中间层工会\n",
        )
        .expect("write");
        let out = s.run(&["org", "import", &csv.display().to_string()]);
        assert!(stdout(&out).contains("新建 1 个"), "{}", stderr(&out));
        let xlsx = s.dir.path().join("tree.xlsx");
        let out = s.run(&["org", "export", "--out", &xlsx.display().to_string()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = s.run(&["org", "import", &xlsx.display().to_string()]);
        assert!(
            stdout(&out).contains("新建 0 个，更新 0 个"),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        let out = s.run(&[
            "user",
            "add",
            "--login",
            "dongjiang",
            "--name",
            "东疆管理员",
            "--role",
            "unit_admin",
            "--org",
            "东疆港区总工会",
        ]);
        assert!(stdout(&out).contains("一次性密码"), "{}", stderr(&out));
        let out = s.run(&[
            "user",
            "add",
            "--login",
            "ghost",
            "--name",
            "某",
            "--role",
            "unit_admin",
            "--org",
            "不存在的工会",
        ]);
        assert!(!out.status.success() && stderr(&out).contains("不存在的工会"));
        let out = s.run(&["user", "reset-password", "--login", "dongjiang"]);
        assert!(stdout(&out).contains("一次性密码"));
        let out = s.run(&["audit", "verify"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("哈希链校验通过"));
        s.finish().await;
    }
}

#[tokio::test]
async fn tampering_makes_audit_verify_fail() {
    // SQLite file edited behind Wangju's back.
    let s = Storage::new(Backend::Sqlite).await;
    s.run(&["migrate"]);
    let db = s.dir.path().join("wangju.db");
    {
        let conn = wangju::db::Db::connect(&format!("sqlite://{}", db.display()), 1)
            .await
            .expect("open");
        wangju::db::testing::execute(&conn, "UPDATE audit_log SET after_json = '{}' WHERE id = 3")
            .await
            .expect("tamper");
        conn.close().await;
    }
    let out = s.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("第 3 条"), "{}", stderr(&out));
}

#[tokio::test]
async fn several_nodes_starting_at_once_migrate_once() {
    for backend in backends() {
        let s = Storage::new(backend).await;
        let children: Vec<_> = (0..3)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_wangju"))
                    .arg("migrate")
                    .args(&s.args)
                    .env("WANGJU_LOG", "warn")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait"))
            .collect();
        for o in &outputs {
            assert!(o.status.success(), "{}", stderr(o));
        }
        let admins: usize = outputs
            .iter()
            .filter(|o| stdout(o).contains("一次性密码"))
            .count();
        assert_eq!(admins, 1, "exactly one start creates the first admin");
        let list = stdout(&s.run(&["campaign", "list"]));
        assert_eq!(list.lines().count(), 1, "{list}");
        s.finish().await;
    }
}

#[tokio::test]
async fn settings_come_from_a_config_file_and_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("from-config");
    let config = dir.path().join("wangju.toml");
    std::fs::write(&config, format!("data_dir = \"{}\"\n", data.display())).expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_wangju"))
        .args(["--config", &config.display().to_string(), "migrate"])
        .env("WANGJU_LOG", "warn")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        data.join("wangju.db").exists(),
        "the config file's data_dir was used"
    );
    // The environment overrides the file.
    let env_data = dir.path().join("from-env");
    let out = Command::new(env!("CARGO_BIN_EXE_wangju"))
        .args(["--config", &config.display().to_string(), "migrate"])
        .env("WANGJU_DATA_DIR", &env_data)
        .env("WANGJU_LOG", "warn")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        env_data.join("wangju.db").exists(),
        "WANGJU_DATA_DIR overrides the file"
    );
    // A database URL that is neither SQLite nor PostgreSQL is refused in Chinese.
    let out = Command::new(env!("CARGO_BIN_EXE_wangju"))
        .args(["migrate", "--database-url", "mysql://x"])
        .env("WANGJU_LOG", "warn")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("不支持的数据库地址"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn progress_exports_from_the_command_line() {
    for backend in backends() {
        let s = Storage::new(backend).await;
        s.run(&["migrate"]);
        let file = s.dir.path().join("progress.xlsx");
        let out = s.run(&["export", "progress", "--out", &file.display().to_string()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let bytes = std::fs::read(&file).expect("written");
        let table = wangju::office::tabular::read(&bytes).expect("a workbook");
        let lines: Vec<Vec<String>> = table.lines().map(|(_, r)| r.to_vec()).collect();
        assert_eq!(lines[2][1], "单位");
        assert_eq!(
            lines[3][1..3],
            ["滨海新区总工会".to_string(), "10".to_string()]
        );
        assert_eq!(lines[19][1], "合计", "the 16 district unions, then 合计");
        assert_eq!(lines[19][2], "100");
        // Into a folder, under the paper's own name.
        let out = s.run(&[
            "export",
            "progress",
            "--out",
            &s.dir.path().display().to_string(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let named = std::fs::read_dir(s.dir.path())
            .expect("folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .find(|n| n.starts_with("2020网聚-统计表-天津市总工会-") && n.ends_with(".xlsx"));
        assert!(named.is_some(), "named by what, whose and when");
        let out = s.run(&[
            "export",
            "progress",
            "--out",
            &file.display().to_string(),
            "--sheet",
            "nonsense",
        ]);
        assert!(!out.status.success() && stderr(&out).contains("可选 progress"));
        s.finish().await;
    }
}

/// `wangju calendar workdays` counts on the 2020 arrangement (调休 weekends included); a year
/// the city loads is used at once; a file with a mistake is refused whole and changes nothing.
#[tokio::test]
async fn working_days_follow_the_loaded_holiday_arrangement() {
    for backend in backends() {
        let s = Storage::new(backend).await;
        s.run(&["migrate"]);
        let workdays = |from: &str, count: &str| {
            let out = s.run(&["calendar", "workdays", "--from", from, "--count", count]);
            (
                out.status.success(),
                stdout(&out).trim().to_string(),
                stderr(&out),
            )
        };
        // A five-day 公示 from Friday 9/25/2020 ends on 9/30: Sunday 9/27 is worked.
        assert_eq!(workdays("2020-09-25", "5").1, "2020-09-30");
        // Two working days from 9/30: the National Day week (10/1–10/8) is skipped.
        assert_eq!(workdays("2020-09-30", "2").1, "2020-10-09");
        assert_eq!(workdays("2020-06-24", "2").1, "2020-06-28");

        // 2026 is not built in: refused with what to do, not guessed from weekends.
        let (ok, _, err) = workdays("2026-10-01", "5");
        assert!(!ok);
        assert!(
            err.contains("2026") && err.contains("calendar import"),
            "{err}"
        );
        let (ok, _, _) = workdays("2020-09-25", "0");
        assert!(!ok, "a count of zero is refused");

        let bad = s.dir.path().join("bad-2026.toml");
        std::fs::write(
            &bad,
            "year = 2026\n[[holidays]]\nname = \"国庆节\"\nfrom = \"2026-10-01\"\nto = \"2026-10-07\"\nworkdays = [\"2026-10-08\"]\n",
        )
        .expect("write");
        let out = s.run(&["calendar", "import", &bad.display().to_string()]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.contains("2026-10-08") && err.contains("星期四"),
            "{err}"
        );
        assert!(!workdays("2026-10-01", "5").0, "nothing was loaded");

        let good = s.dir.path().join("cn-2026.toml");
        std::fs::write(
            &good,
            "year = 2026\nsource = \"测试\"\n[[holidays]]\nname = \"国庆节、中秋节\"\nfrom = \"2026-10-01\"\nto = \"2026-10-07\"\nworkdays = [\"2026-09-20\", \"2026-10-10\"]\n",
        )
        .expect("write");
        let out = s.run(&["calendar", "import", &good.display().to_string()]);
        assert!(out.status.success(), "{}", stderr(&out));
        // 9/30 (Wed), then 10/8 (Thu), 10/9 (Fri), 10/10 (Sat, worked), 10/12 (Mon).
        assert_eq!(workdays("2026-09-30", "5").1, "2026-10-12");
        assert!(stdout(&s.run(&["calendar", "list"])).contains("2026"));
        let exported = stdout(&s.run(&["calendar", "export", "--year", "2026"]));
        assert!(exported.contains("2026-10-10"), "{exported}");
        s.finish().await;
    }
}
