//! Media files as the file rules see them: the probe and the check live in the `wangju-media`
//! library (crates/media), which knows nothing of databases or HTTP, so it can be fuzzed and
//! tested on its own. This module re-exports it and adds the `wangju media check` command.

pub use wangju_media::*;

pub mod command;

/// Longest a poster may take; a stream that keeps the decoder busy longer gets none.
const POSTER_SECONDS: u64 = 30;

/// Runs `helper media poster VIDEO OUT` in a child process, killed after [`POSTER_SECONDS`]:
/// the C++ decoder never runs inside the server, so a hostile stream that crashes or hangs it
/// costs one poster. The error says why there is none (for the log).
pub async fn poster_in_child(
    helper: &std::path::Path,
    video: &std::path::Path,
    out: &std::path::Path,
) -> Result<(), String> {
    let child = tokio::process::Command::new(helper)
        .args(["media", "poster"])
        .arg(video)
        .arg(out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", helper.display()))?;
    let done = tokio::time::timeout(
        std::time::Duration::from_secs(POSTER_SECONDS),
        child.wait_with_output(),
    )
    .await
    .map_err(|_| format!("gave up after {POSTER_SECONDS} s"))?
    .map_err(|e| e.to_string())?;
    if done.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&done.stderr);
        Err(format!(
            "{}: {}",
            done.status,
            said.chars().take(300).collect::<String>().trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[tokio::test]
    async fn a_poster_helper_that_fails_or_is_missing_gives_no_poster() {
        let dir = tempfile::tempdir().expect("dir");
        let (video, out) = (dir.path().join("v.mp4"), dir.path().join("p.jpg"));
        std::fs::write(&video, b"x").expect("write");
        let missing = super::poster_in_child(Path::new("/nonexistent/wangju"), &video, &out).await;
        assert!(missing.is_err_and(|e| e.contains("cannot start")));
        let failed = super::poster_in_child(Path::new("/bin/false"), &video, &out).await;
        assert!(failed.is_err_and(|e| e.contains("exit status: 1")));
        assert!(!out.exists());
    }
}
