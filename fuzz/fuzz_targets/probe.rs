//! The media probe on arbitrary bytes: it must return (no panic, no hang, bounded memory)
//! and the check must accept nothing it could not read. Seed it with small real files; see
//! `docs/media-rules.md`.

#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use wangju_media::rules::{FileRule, MediaKind, Severity};
use wangju_media::{Verdict, check, probe_bytes};

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts on any panic, even one the probe contains with `catch_unwind` around
    // third-party decoders. Put the default hook back: contained panics are printed and
    // survived, a panic in Wangju's own code still reaches libfuzzer-sys and counts as a crash.
    static HOOK: Once = Once::new();
    HOOK.call_once(|| drop(std::panic::take_hook()));
    let probe = probe_bytes(data);
    let rules = [
        FileRule::Format {
            allowed: vec!["mp4".into()],
            severity: Severity::Error,
        },
        FileRule::MaxDuration {
            seconds: 180,
            severity: Severity::Error,
        },
        FileRule::AspectRatio {
            width: 16,
            height: 9,
            tolerance_percent: 2.0,
            severity: Severity::Error,
        },
        FileRule::AudioTrack {
            severity: Severity::Error,
        },
        FileRule::AudibleAudio {
            severity: Severity::Warning,
        },
    ];
    let report = check(MediaKind::Video, &rules, &probe);
    if report.verdict == Verdict::Accepted {
        assert!(probe.damage.is_none() && probe.video.is_some());
    }
});
