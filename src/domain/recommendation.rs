//! Recommendation (推荐) rules: the cap per sub-project, when a pick is an override that needs a
//! reason, the file names in the recommendation package, and the national award levels.

use super::ids::WorkId;

/// Cap when the campaign file names none for a judged sub-project.
pub const DEFAULT_CAP: u32 = 10;
/// Largest cap a campaign file may set (one 公示 lists at most 500 entries).
pub const MAX_CAP: u32 = 200;
/// An override's reason, in characters.
pub const MIN_REASON_CHARS: usize = 4;
pub const MAX_REASON_CHARS: usize = 500;
/// A work title inside a package file name, in characters (the rest of the title is cut).
pub const MAX_FILE_TITLE_CHARS: usize = 60;
/// An award level as the national list names it, in characters.
pub const MAX_AWARD_CHARS: usize = 20;
/// Rows in one national results file.
pub const MAX_RESULT_ROWS: usize = 5_000;
/// The levels the national notice uses, best first; others the file names are kept as named.
pub const AWARD_LEVELS: [&str; 4] = ["一等奖", "二等奖", "三等奖", "优秀奖"];

/// Why a pick is not simply the next work of the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    /// Better-ranked works are not (yet) recommended.
    OutOfOrder { passed_over: usize },
    /// The work is not in the final ranking (judged out in an earlier round, or not judged).
    NotRanked,
}

impl Override {
    pub fn label_zh(self) -> String {
        match self {
            Override::OutOfOrder { passed_over } => {
                format!("越过排名更靠前的 {passed_over} 件作品推荐")
            }
            Override::NotRanked => "不在终评排名中".into(),
        }
    }
}

/// Whether picking `work` is an override, given the final ranking (best first) and the works
/// already recommended. `None`: every better-ranked work is recommended already.
pub fn override_of(ranking: &[WorkId], recommended: &[WorkId], work: WorkId) -> Option<Override> {
    let Some(place) = ranking.iter().position(|w| *w == work) else {
        return Some(Override::NotRanked);
    };
    let passed_over = ranking[..place]
        .iter()
        .filter(|w| !recommended.contains(w))
        .count();
    (passed_over > 0).then_some(Override::OutOfOrder { passed_over })
}

/// The works "fill from the ranking" adds: the best-ranked not yet recommended, up to the cap.
pub fn fill(ranking: &[WorkId], recommended: &[WorkId], cap: usize) -> Vec<WorkId> {
    let room = cap.saturating_sub(recommended.len());
    ranking
        .iter()
        .filter(|w| !recommended.contains(w))
        .take(room)
        .copied()
        .collect()
}

/// A package file name `序号-作品名.扩展名`: the number zero-padded to the list's width, the
/// title without characters Windows, macOS or a zip tool refuse (`\/:*?"<>|`, controls), without
/// leading or trailing dots and spaces, cut to [`MAX_FILE_TITLE_CHARS`]; `作品` when nothing is
/// left. `ext` is the stored type's extension, never the uploaded name's.
pub fn package_file_name(number: usize, total: usize, title: &str, ext: &str) -> String {
    let width = total.to_string().len().max(2);
    let mut clean: String = title
        .chars()
        .map(|c| match c {
            '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() || super::text::is_format_char(c) => ' ',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    clean = clean
        .trim_matches(|c: char| c == '.' || c == ' ')
        .chars()
        .take(MAX_FILE_TITLE_CHARS)
        .collect::<String>()
        .trim_end_matches(['.', ' '])
        .to_string();
    if clean.is_empty() {
        clean = "作品".into();
    }
    let ext: String = ext
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    if ext.is_empty() {
        format!("{number:0width$}-{clean}")
    } else {
        format!("{number:0width$}-{clean}.{ext}")
    }
}

/// An award level as written in the national list: spaces removed, within
/// [`MAX_AWARD_CHARS`]. `Err` says what is wrong, in Chinese.
pub fn award_level(raw: &str) -> Result<String, String> {
    let level = super::text::name(raw, MAX_AWARD_CHARS).map_err(|m| format!("获奖等级{m}"))?;
    Ok(level.chars().filter(|c| !c.is_whitespace()).collect())
}

/// Sort key of an award level: the notice's four levels in order, then any other.
pub fn award_order(level: &str) -> usize {
    AWARD_LEVELS
        .iter()
        .position(|l| *l == level)
        .unwrap_or(AWARD_LEVELS.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[i64]) -> Vec<WorkId> {
        v.iter().map(|i| WorkId(*i)).collect()
    }

    #[test]
    fn picks_in_rank_order_need_no_reason() {
        let ranking = ids(&[5, 3, 9, 1]);
        assert_eq!(override_of(&ranking, &[], WorkId(5)), None);
        assert_eq!(override_of(&ranking, &ids(&[5]), WorkId(3)), None);
        assert_eq!(
            override_of(&ranking, &ids(&[5]), WorkId(9)),
            Some(Override::OutOfOrder { passed_over: 1 })
        );
        assert_eq!(
            override_of(&ranking, &ids(&[5]), WorkId(77)),
            Some(Override::NotRanked)
        );
        // An earlier override does not make the next in-order pick one.
        assert_eq!(override_of(&ranking, &ids(&[5, 9]), WorkId(3)), None);
    }

    #[test]
    fn fill_takes_the_best_not_yet_recommended_up_to_the_cap() {
        let ranking = ids(&[5, 3, 9, 1]);
        assert_eq!(fill(&ranking, &ids(&[3]), 3), ids(&[5, 9]));
        assert_eq!(fill(&ranking, &ids(&[3, 5, 9]), 3), ids(&[]));
        assert_eq!(fill(&ranking, &ids(&[]), 10), ranking);
    }

    #[test]
    fn package_names_are_safe_on_every_system() {
        assert_eq!(
            package_file_name(1, 9, "战疫/日记", "mp4"),
            "01-战疫_日记.mp4"
        );
        assert_eq!(
            package_file_name(12, 120, " ..a:b*?\"<>|\u{202e}c\n. ", "mp4"),
            "012-a_b______ c.mp4"
        );
        assert_eq!(package_file_name(3, 3, "...", "png"), "03-作品.png");
        assert_eq!(package_file_name(3, 3, "作品", "../x"), "03-作品.x");
        let long = "长".repeat(200);
        let name = package_file_name(1, 1, &long, "mp4");
        assert_eq!(name.chars().count(), 3 + MAX_FILE_TITLE_CHARS + 4);
    }

    #[test]
    fn award_levels_are_kept_as_named() {
        assert_eq!(award_level(" 一 等奖 ").as_deref(), Ok("一等奖"));
        assert_eq!(award_level("最佳创意奖").as_deref(), Ok("最佳创意奖"));
        assert!(award_level("  ").is_err());
        assert!(award_order("优秀奖") < award_order("最佳创意奖"));
        assert!(award_order("一等奖") < award_order("二等奖"));
    }
}
