//! `wangju media check` on real files made with ffmpeg: the 2020 micro-video rule (MP4, sound,
//! shorter than 3 minutes, smaller than 50 MB, 16:9) judged from content, not names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use wangju::db::Backend;

use crate::harness::{Storage, backends};

/// The test files, made once per test run.
pub struct Files {
    dir: tempfile::TempDir,
    /// False when this ffmpeg has no HEVC encoder.
    hevc: bool,
}

impl Files {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(make_test_files)
}

/// Every test video, small and a few seconds long. Needs Debian's `ffmpeg` (see `.ci/run`).
fn make_test_files() -> Files {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Runs ffmpeg; on failure returns what it said.
    let ffmpeg = |out: &str, args: &[&str]| -> Result<(), String> {
        let run = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(args)
            .arg(d.join(out))
            .output()
            .expect("ffmpeg 未安装：apt-get install -y ffmpeg");
        if run.status.success() {
            Ok(())
        } else {
            Err(format!(
                "ffmpeg could not make {out}: {}",
                String::from_utf8_lossy(&run.stderr)
            ))
        }
    };
    let picture = |size: &str, seconds: u32, rate: u32| {
        format!("testsrc=duration={seconds}:size={size}:rate={rate}")
    };
    let tone = |seconds: u32| format!("sine=frequency=440:duration={seconds}");
    let h264 = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ];
    let aac = ["-c:a", "aac", "-shortest"];
    let video = |out: &str, size: &str, seconds: u32, rate: u32, extra: &[&str]| {
        let (p, t) = (picture(size, seconds, rate), tone(seconds));
        let mut args = vec![
            "-f",
            "lavfi",
            "-i",
            p.as_str(),
            "-f",
            "lavfi",
            "-i",
            t.as_str(),
        ];
        args.extend(h264);
        args.extend(aac);
        args.extend(extra.iter().copied());
        ffmpeg(out, &args).unwrap_or_else(|e| panic!("{e}"));
    };

    video("ok.mp4", "1280x720", 3, 25, &[]);
    video(
        "ok-faststart.mp4",
        "1280x720",
        3,
        25,
        &["-movflags", "+faststart"],
    );
    video("vertical.mp4", "720x1280", 3, 25, &[]);
    // A phone's tags: who made it and where (moov/udta/meta).
    video(
        "tagged.mp4",
        "1280x720",
        2,
        25,
        &[
            "-metadata",
            "artist=Secret Author Zhang",
            "-metadata",
            "location=+39.1234+117.5678/",
        ],
    );
    video("anamorphic.mp4", "960x720", 3, 25, &["-vf", "setsar=4/3"]);
    // Over 3 minutes; tiny and 1 fps so it takes a second to make (and so also low resolution).
    video("long.mp4", "320x180", 200, 1, &["-b:a", "32k"]);
    video("real-mov.mp4", "1280x720", 3, 25, &["-f", "mov"]);
    let p = picture("1280x720", 3, 25);
    let mut args = vec!["-f", "lavfi", "-i", p.as_str()];
    args.extend(h264);
    args.push("-an");
    ffmpeg("no-audio.mp4", &args).unwrap_or_else(|e| panic!("{e}"));
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        p.as_str(),
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=48000:cl=stereo",
        "-t",
        "3",
    ];
    args.extend(h264);
    args.extend(["-c:a", "aac"]);
    ffmpeg("silent.mp4", &args).unwrap_or_else(|e| panic!("{e}"));

    // Stored 1280×720, shown portrait: newer ffmpeg sets the display matrix with
    // -display_rotation, older (Debian 12's 5.1) with the rotate tag.
    let ok = d.join("ok.mp4").display().to_string();
    ffmpeg(
        "rotated.mp4",
        &["-display_rotation", "90", "-i", &ok, "-c", "copy"],
    )
    .or_else(|_| {
        ffmpeg(
            "rotated.mp4",
            &["-i", &ok, "-c", "copy", "-metadata:s:v:0", "rotate=90"],
        )
    })
    .unwrap_or_else(|e| panic!("{e}"));

    // A timed-text subtitle track (3GPP `tx3g`) beside the picture and sound.
    let srt = d.join("subtitles.srt");
    std::fs::write(&srt, "1\n00:00:00,000 --> 00:00:02,000\n网聚职工正能量\n").expect("srt");
    let srt = srt.display().to_string();
    ffmpeg(
        "subtitled.mp4",
        &[
            "-i",
            &ok,
            "-i",
            &srt,
            "-map",
            "0",
            "-map",
            "1",
            "-c:v",
            "copy",
            "-c:a",
            "copy",
            "-c:s",
            "mov_text",
            "-metadata:s:s:0",
            "language=chi",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let hevc = {
        let (p, t) = (picture("1280x720", 2, 25), tone(2));
        ffmpeg(
            "hevc.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                &p,
                "-f",
                "lavfi",
                "-i",
                &t,
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-x265-params",
                "log-level=error",
                "-tag:v",
                "hvc1",
                "-c:a",
                "aac",
                "-shortest",
            ],
        )
        .is_ok()
    };

    // The same MP4 under a MOV name; the first 60 % of a file; noise.
    std::fs::copy(d.join("ok.mp4"), d.join("renamed.mov")).expect("copy");
    for (from, to) in [
        ("ok.mp4", "truncated.mp4"),
        ("ok-faststart.mp4", "truncated-faststart.mp4"),
    ] {
        let bytes = std::fs::read(d.join(from)).expect("read");
        std::fs::write(d.join(to), &bytes[..bytes.len() * 6 / 10]).expect("write");
    }
    let noise: Vec<u8> = (0..200_000u64)
        .map(|i| (i.wrapping_mul(6_364_136_223_846_793_005) >> 56) as u8)
        .collect();
    std::fs::write(d.join("random.mp4"), noise).expect("write");

    // A good file padded with a 60 MB `free` box: sparse on disk, skipped by the probe.
    let mut big = std::fs::read(d.join("ok-faststart.mp4")).expect("read");
    let pad: u64 = 60 << 20;
    big.extend_from_slice(&u32::try_from(pad).expect("fits").to_be_bytes());
    big.extend_from_slice(b"free");
    let file = std::fs::File::create(d.join("big.mp4")).expect("create");
    std::io::Write::write_all(&mut &file, &big).expect("write");
    file.set_len(big.len() as u64 - 8 + pad).expect("grow");

    Files { dir, hevc }
}

/// Storage with the first start done (it prints the first admin's password).
async fn storage(backend: Backend) -> Storage {
    let s = Storage::new(backend).await;
    assert!(s.run(&["migrate"]).status.success());
    s
}

impl Storage {
    /// `media check --json` over files of the test folder, keyed by file name.
    fn check(&self, rule: &str, names: &[&str]) -> (Output, HashMap<String, Value>) {
        let f = files();
        let paths: Vec<String> = names
            .iter()
            .map(|n| f.path(n).display().to_string())
            .collect();
        let mut args = vec!["media", "check", "--rule", rule, "--json"];
        args.extend(paths.iter().map(String::as_str));
        let out = self.run(&args);
        let mut by_name = HashMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: Value = serde_json::from_str(line).expect("one JSON object per line");
            let file = v["file"].as_str().expect("file");
            let name = Path::new(file)
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            by_name.insert(name, v);
        }
        (out, by_name)
    }
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .iter()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect()
}

fn messages(v: &Value) -> String {
    codes(v, "messages").join("\n")
}

/// Asserts the verdict and the error and warning codes of one file.
fn expect(
    results: &HashMap<String, Value>,
    name: &str,
    verdict: &str,
    errors: &[&str],
    warnings: &[&str],
) {
    let v = results
        .get(name)
        .unwrap_or_else(|| panic!("no result for {name}: {results:?}"));
    assert_eq!(v["verdict"], verdict, "{name}: {v}");
    assert_eq!(codes(v, "errors"), errors, "{name}: {v}");
    assert_eq!(codes(v, "warnings"), warnings, "{name}: {v}");
}

#[tokio::test]
async fn the_micro_video_rule_holds_real_files() {
    let s = storage(Backend::Sqlite).await;
    let names = [
        "ok.mp4",
        "vertical.mp4",
        "rotated.mp4",
        "anamorphic.mp4",
        "long.mp4",
        "no-audio.mp4",
        "silent.mp4",
        "renamed.mov",
        "real-mov.mp4",
        "subtitled.mp4",
    ];
    let (out, r) = s.check("micro-video", &names);
    assert_eq!(out.status.code(), Some(1), "some are rejected");
    assert_eq!(
        r.len(),
        names.len(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    expect(&r, "ok.mp4", "accepted", &[], &[]);
    let ok = &r["ok.mp4"];
    assert_eq!(
        (ok["display_width"].as_u64(), ok["display_height"].as_u64()),
        (Some(1280), Some(720))
    );
    let seconds = ok["duration_s"].as_f64().expect("duration");
    assert!((seconds - 3.0).abs() < 0.1, "{seconds}");
    assert_eq!(ok["format"], "mp4");
    assert_eq!(ok["video_codec"], "avc1");
    assert!(ok["audio_peak_dbfs"].as_f64().expect("level") > -30.0);
    assert!(ok["size_bytes"].as_u64().expect("size") > 10_000);

    expect(&r, "vertical.mp4", "rejected", &["aspect"], &[]);
    let m = messages(&r["vertical.mp4"]);
    assert!(
        m.contains("画面比例为 9:16（竖屏，720×1280），要求 16:9 横屏"),
        "{m}"
    );

    // Stored landscape, shown portrait: the display matrix decides.
    expect(&r, "rotated.mp4", "rejected", &["aspect"], &[]);
    let rot = &r["rotated.mp4"];
    assert_eq!(
        (rot["coded_width"].as_u64(), rot["coded_height"].as_u64()),
        (Some(1280), Some(720))
    );
    assert_eq!(
        (
            rot["display_width"].as_u64(),
            rot["display_height"].as_u64()
        ),
        (Some(720), Some(1280))
    );
    assert!(matches!(rot["rotation"].as_u64(), Some(90 | 270)), "{rot}");

    // 960×720 with 4:3 pixels is shown 1280×720: 16:9.
    expect(&r, "anamorphic.mp4", "accepted", &[], &[]);
    let an = &r["anamorphic.mp4"];
    assert_eq!(an["display_width"].as_u64(), Some(1280));
    assert_eq!(an["coded_width"].as_u64(), Some(960));
    assert_eq!(an["pixel_aspect"], serde_json::json!([4, 3]));

    expect(
        &r,
        "long.mp4",
        "rejected",
        &["too_long"],
        &["low_resolution"],
    );
    let m = messages(&r["long.mp4"]);
    assert!(m.contains("视频时长 3 分 20 秒，要求短于 3 分钟"), "{m}");

    expect(&r, "no-audio.mp4", "rejected", &["no_audio"], &[]);
    expect(&r, "silent.mp4", "accepted", &[], &["silent_audio"]);
    assert!(messages(&r["silent.mp4"]).contains("无声"));

    // Content decides, not the name.
    expect(&r, "renamed.mov", "accepted", &[], &[]);
    assert_eq!(r["renamed.mov"]["format"], "mp4");
    expect(&r, "real-mov.mp4", "rejected", &["format"], &[]);
    assert!(messages(&r["real-mov.mp4"]).contains("QuickTime MOV"));

    // Subtitles are the author's declaration: reported, never failed.
    let notes = codes(ok, "notes").join("\n");
    assert!(notes.contains("未检测到字幕轨"), "{notes}");
    expect(&r, "subtitled.mp4", "accepted", &[], &[]);
    let sub = &r["subtitled.mp4"];
    assert_eq!(sub["subtitle_tracks"][0]["codec"], "tx3g", "{sub}");
    let notes = codes(sub, "notes").join("\n");
    assert!(notes.contains("检测到 1 条字幕轨：tx3g（chi）"), "{notes}");
    s.finish().await;
}

#[tokio::test]
async fn hevc_plays_in_fewer_browsers() {
    let f = files();
    if !f.hevc {
        println!("note: this ffmpeg has no libx265; the HEVC case is skipped");
        return;
    }
    let s = storage(Backend::Sqlite).await;
    let (out, r) = s.check("micro-video", &["hevc.mp4"]);
    assert_eq!(out.status.code(), Some(0), "a warning does not reject");
    expect(&r, "hevc.mp4", "accepted", &[], &["browser_playable"]);
    assert_eq!(r["hevc.mp4"]["video_codec"], "hvc1");
    assert!(messages(&r["hevc.mp4"]).contains("HEVC"));
    // The level check reads the AAC samples itself, whatever the picture codec.
    assert!(r["hevc.mp4"]["audio_peak_dbfs"].as_f64().is_some());
    s.finish().await;
}

#[tokio::test]
async fn damaged_and_hostile_files_are_rejected_quickly() {
    let s = storage(Backend::Sqlite).await;
    let started = Instant::now();
    let (out, r) = s.check(
        "micro-video",
        &[
            "truncated.mp4",
            "truncated-faststart.mp4",
            "random.mp4",
            "big.mp4",
        ],
    );
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    expect(&r, "truncated.mp4", "rejected", &["damaged"], &[]);
    expect(&r, "truncated-faststart.mp4", "rejected", &["damaged"], &[]);
    assert!(messages(&r["truncated-faststart.mp4"]).contains("不完整"));
    let random = &r["random.mp4"];
    assert_eq!(random["verdict"], "rejected");
    let errors = codes(random, "errors");
    assert!(
        errors == ["format"] || errors == ["damaged"],
        "noise named .mp4: {errors:?}"
    );
    // 60 MB of padding is skipped, not read: too large, and nothing else wrong.
    expect(&r, "big.mp4", "rejected", &["too_large"], &[]);
    let m = messages(&r["big.mp4"]);
    assert!(
        m.contains("文件大小 60.") && m.contains("MB，要求小于 50 MB"),
        "{m}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
    s.finish().await;
}

#[tokio::test]
async fn exit_code_and_readable_report() {
    for backend in backends() {
        let s = storage(backend).await;
        let f = files();
        let ok = f.path("ok.mp4").display().to_string();
        let anamorphic = f.path("anamorphic.mp4").display().to_string();
        let out = s.run(&["media", "check", "--rule", "micro-video", &ok, &anamorphic]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "all accepted: {text}");
        assert!(text.contains("ok.mp4：通过"), "{text}");
        assert!(text.contains("画面 1280×720（16:9）"), "{text}");
        assert!(text.contains("共 2 个文件，0 个不通过"), "{text}");

        let vertical = f.path("vertical.mp4").display().to_string();
        let out = s.run(&["media", "check", "--rule", "micro-video", &ok, &vertical]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("vertical.mp4：不通过"), "{text}");
        assert!(text.contains("错误［aspect］画面比例为 9:16"), "{text}");

        let out = s.run(&["media", "check", "--rule", "micro-vidoe", &ok]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("没有代码为“micro-vidoe”的子项目"), "{err}");
        assert!(
            err.contains("micro-video（网络正能量微视频征集）"),
            "lists the known codes: {err}"
        );

        let missing = f.path("missing.mp4").display().to_string();
        let out = s.run(&["media", "check", "--rule", "micro-video", &missing]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("无法读取"));
        s.finish().await;
    }
}
