//! Selection rules with no I/O: review rounds as campaign data (window, rubric, reviewers per
//! work, blind, advancement rule), the validation of a score sheet against its rubric, and the
//! results of a round (mean, trimmed mean, per-reviewer z-scores, disagreement, ranking with a
//! stated tie rule, and who advances). The assignment of reviewers is in `assignment.rs`.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::ids::{UserId, WorkId};

/// One review round of a sub-project, e.g. 初评.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round {
    /// Unique within the sub-project, e.g. `first`.
    pub code: String,
    pub name: String,
    /// Scoring window, inclusive.
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Reviewers per work (k).
    pub reviewers_per_work: u32,
    /// Blind review: reviewers never see author, unit, phone, login or file name. Default true.
    #[serde(default = "yes")]
    pub blind: bool,
    pub criteria: Vec<Criterion>,
    /// How works advance to the next round; the last round has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance: Option<Advance>,
}

fn yes() -> bool {
    true
}

/// One rubric criterion, scored as a whole number from 0 to `max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// e.g. 思想性.
    pub name: String,
    /// Relative weight (the weights need not add up to 100).
    pub weight: f64,
    /// Highest score.
    pub max: u32,
}

/// Which works go on to the next round, in the order of the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Advance {
    /// The first `count` works of the ranking.
    TopN { count: u32 },
    /// The first `percent` per cent of the ranked works, rounded up.
    TopShare { percent: u32 },
    /// Every work whose score (0–100) is at least `score`.
    Threshold { score: f64 },
}

impl Advance {
    pub fn label_zh(&self) -> String {
        match self {
            Advance::TopN { count } => format!("排名前 {count} 件晋级"),
            Advance::TopShare { percent } => format!("排名前 {percent}% 晋级"),
            Advance::Threshold { score } => format!("得分不低于 {score} 分晋级"),
        }
    }

    /// The works of `ranking` (best first) that advance, in ranking order. Works nobody
    /// scored never advance.
    pub fn advancing(&self, ranking: &[WorkResult]) -> Vec<WorkId> {
        let scored = ranking.iter().filter(|r| r.count > 0);
        match self {
            Advance::TopN { count } => scored.take(*count as usize).map(|r| r.work).collect(),
            Advance::TopShare { percent } => {
                let n = (ranking.len() * (*percent as usize)).div_ceil(100);
                scored.take(n).map(|r| r.work).collect()
            }
            Advance::Threshold { score } => scored
                .filter(|r| r.score >= *score)
                .map(|r| r.work)
                .collect(),
        }
    }
}

/// Problems with one sub-project's rounds: (field suffix, message). The caller adds the path.
pub fn round_problems(rounds: &[Round]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut codes = HashSet::new();
    for (i, round) in rounds.iter().enumerate() {
        let at = |f: &str| format!("rounds[{i}].{f}");
        if round.code.trim().is_empty() || !codes.insert(round.code.as_str()) {
            out.push((at("code"), format!("轮次编码“{}”为空或重复", round.code)));
        }
        if round.name.trim().is_empty() {
            out.push((at("name"), "轮次名称不能为空".into()));
        }
        if round.ends_on < round.starts_on {
            out.push((
                at("ends_on"),
                format!(
                    "评审结束日期 {} 早于开始日期 {}",
                    round.ends_on, round.starts_on
                ),
            ));
        }
        if i > 0 && round.starts_on < rounds[i - 1].ends_on {
            out.push((
                at("starts_on"),
                "各轮次须依次进行：本轮开始日期不能早于上一轮结束日期".into(),
            ));
        }
        if !(1..=15).contains(&round.reviewers_per_work) {
            out.push((
                at("reviewers_per_work"),
                "每件作品的评审专家人数须在 1 至 15 之间".into(),
            ));
        }
        if round.criteria.is_empty() {
            out.push((
                at("criteria"),
                "评分标准至少要有一项（如 思想性、艺术性）".into(),
            ));
        }
        let mut names = HashSet::new();
        for (j, c) in round.criteria.iter().enumerate() {
            let at = format!("rounds[{i}].criteria[{j}]");
            if c.name.trim().is_empty() || !names.insert(c.name.as_str()) {
                out.push((at.clone(), format!("评分项名称“{}”为空或重复", c.name)));
            }
            if !(c.weight.is_finite() && c.weight > 0.0 && c.weight <= 1000.0) {
                out.push((at.clone(), "权重须大于 0、不超过 1000".into()));
            }
            if !(1..=1000).contains(&c.max) {
                out.push((at, "满分须在 1 至 1000 之间".into()));
            }
        }
        let last = i + 1 == rounds.len();
        match (&round.advance, last) {
            (None, false) => out.push((
                at("advance"),
                "除最后一轮外，每轮须写明晋级规则（top_n、top_share 或 threshold）".into(),
            )),
            (Some(_), true) => out.push((
                at("advance"),
                "最后一轮不再晋级，请删去 advance；最终排名即评审结果".into(),
            )),
            (Some(Advance::TopN { count: 0 }), _) => {
                out.push((at("advance"), "晋级件数须大于 0".into()))
            }
            (Some(Advance::TopShare { percent }), _) if !(1..=100).contains(percent) => {
                out.push((at("advance"), "晋级比例须在 1% 至 100% 之间".into()))
            }
            (Some(Advance::Threshold { score }), _) if !(0.0..=100.0).contains(score) => {
                out.push((at("advance"), "晋级分数线须在 0 至 100 分之间".into()))
            }
            _ => {}
        }
    }
    out
}

/// A reviewer's scores of one work, one per criterion, in the rubric's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreSheet {
    pub scores: Vec<Option<u32>>,
    pub comment: String,
}

/// Whether the sheet may be saved as a draft (`submit` false: blanks allowed) or submitted
/// (every criterion scored). Each problem is (criterion or `comment`, Chinese message).
pub fn sheet_problems(
    criteria: &[Criterion],
    sheet: &ScoreSheet,
    submit: bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if sheet.scores.len() != criteria.len() {
        out.push((
            "scores".into(),
            "评分项与本轮评分标准不一致，请刷新页面后重填".into(),
        ));
        return out;
    }
    let mut at_an_end = false;
    for (c, score) in criteria.iter().zip(&sheet.scores) {
        match score {
            None if submit => out.push((c.name.clone(), format!("请为“{}”打分", c.name))),
            None => {}
            Some(s) if *s > c.max => out.push((
                c.name.clone(),
                format!(
                    "“{}”的分数 {s} 超出范围，须在 0 至 {} 分之间",
                    c.name, c.max
                ),
            )),
            Some(s) => at_an_end |= *s == 0 || *s == c.max,
        }
    }
    if submit && at_an_end && sheet.comment.trim().is_empty() {
        out.push((
            "comment".into(),
            "有评分项打了最低分或满分，请在评语中写明理由".into(),
        ));
    }
    if sheet.comment.chars().count() > 2000 {
        out.push(("comment".into(), "评语不能超过 2000 字".into()));
    }
    out
}

/// The weighted score of a complete sheet on a 0–100 scale.
pub fn weighted_score(criteria: &[Criterion], scores: &[u32]) -> f64 {
    let total_weight: f64 = criteria.iter().map(|c| c.weight).sum();
    if total_weight <= 0.0 {
        return 0.0;
    }
    let sum: f64 = criteria
        .iter()
        .zip(scores)
        .map(|(c, s)| c.weight * f64::from(*s) / f64::from(c.max.max(1)))
        .sum();
    sum / total_weight * 100.0
}

/// One submitted score: who scored which work, and the weighted 0–100 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub work: WorkId,
    pub reviewer: UserId,
    pub score: f64,
}

/// Spread (highest − lowest score of a work, 0–100) from which reviewers are said to disagree.
pub const DISAGREEMENT_SPREAD: f64 = 25.0;

/// From this many scores a work's highest and lowest score are dropped (trimmed mean).
pub const TRIM_FROM: usize = 5;

/// A work's result in a round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkResult {
    pub work: WorkId,
    /// Submitted scores.
    pub count: usize,
    pub mean: f64,
    /// The mean without the highest and lowest score when there are at least five; else the
    /// mean. This is "the score" thresholds compare against.
    pub score: f64,
    /// Mean of the reviewers' z-scores: how far above each reviewer's own average the work is,
    /// in that reviewer's standard deviations, so strict and lenient reviewers weigh the same.
    pub normalised: f64,
    pub spread: f64,
    pub disagreement: bool,
    /// 1-based.
    pub rank: usize,
}

/// The tie rule, shown on the ranking page.
pub const TIE_RULE_ZH: &str = "按标准化得分（各评审专家 z 分数的平均）从高到低排名；相同时比较得分（5 人及以上评审时去掉一个最高分和一个最低分后的平均分），再相同时比较收到的评分份数，仍相同时按作品编号从小到大（先提交者在前）。";

/// Results of a round for `works` (every work in the round; works without scores rank last
/// with score 0) from the submitted `scores`.
pub fn results(works: &[WorkId], scores: &[Scored]) -> Vec<WorkResult> {
    // Each reviewer's mean and standard deviation over the works they scored.
    let mut by_reviewer: BTreeMap<UserId, Vec<f64>> = BTreeMap::new();
    for s in scores {
        by_reviewer.entry(s.reviewer).or_default().push(s.score);
    }
    let stats: BTreeMap<UserId, (f64, f64)> = by_reviewer
        .into_iter()
        .map(|(r, v)| {
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            (r, (mean, var.sqrt()))
        })
        .collect();
    let mut by_work: BTreeMap<WorkId, Vec<(f64, f64)>> = BTreeMap::new();
    for s in scores {
        let (mean, sd) = stats.get(&s.reviewer).copied().unwrap_or((s.score, 0.0));
        let z = if sd > 1e-9 {
            (s.score - mean) / sd
        } else {
            0.0
        };
        by_work.entry(s.work).or_default().push((s.score, z));
    }
    let mut out: Vec<WorkResult> = works
        .iter()
        .map(|&work| {
            let list = by_work.get(&work).map(Vec::as_slice).unwrap_or(&[]);
            let n = list.len();
            let mut raw: Vec<f64> = list.iter().map(|(s, _)| *s).collect();
            raw.sort_by(f64::total_cmp);
            let mean = if n == 0 {
                0.0
            } else {
                raw.iter().sum::<f64>() / n as f64
            };
            let score = if n >= TRIM_FROM {
                raw[1..n - 1].iter().sum::<f64>() / (n - 2) as f64
            } else {
                mean
            };
            let normalised = if n == 0 {
                f64::NEG_INFINITY
            } else {
                list.iter().map(|(_, z)| z).sum::<f64>() / n as f64
            };
            let spread = match (raw.first(), raw.last()) {
                (Some(lo), Some(hi)) => hi - lo,
                _ => 0.0,
            };
            WorkResult {
                work,
                count: n,
                mean,
                score,
                normalised,
                spread,
                disagreement: n >= 2 && spread >= DISAGREEMENT_SPREAD,
                rank: 0,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.normalised
            .total_cmp(&a.normalised)
            .then(b.score.total_cmp(&a.score))
            .then(b.count.cmp(&a.count))
            .then(a.work.cmp(&b.work))
    });
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = i + 1;
        if r.normalised == f64::NEG_INFINITY {
            r.normalised = 0.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric() -> Vec<Criterion> {
        vec![
            Criterion {
                name: "思想性".into(),
                weight: 30.0,
                max: 10,
            },
            Criterion {
                name: "艺术性".into(),
                weight: 70.0,
                max: 20,
            },
        ]
    }

    #[test]
    fn sheets_are_checked_against_the_rubric() {
        let c = rubric();
        let sheet = |a, b, comment: &str| ScoreSheet {
            scores: vec![a, b],
            comment: comment.into(),
        };
        assert!(sheet_problems(&c, &sheet(Some(5), Some(11), ""), true).is_empty());
        assert_eq!(
            sheet_problems(&c, &sheet(Some(11), Some(5), "好"), true).len(),
            1
        );
        assert!(sheet_problems(&c, &sheet(None, Some(5), ""), false).is_empty());
        assert_eq!(sheet_problems(&c, &sheet(None, Some(5), ""), true).len(), 1);
        // Either end of the scale needs a comment.
        assert_eq!(
            sheet_problems(&c, &sheet(Some(10), Some(5), ""), true)[0].0,
            "comment"
        );
        assert_eq!(
            sheet_problems(&c, &sheet(Some(0), Some(5), " "), true)[0].0,
            "comment"
        );
        assert!(sheet_problems(&c, &sheet(Some(0), Some(20), "理由"), true).is_empty());
        assert!((weighted_score(&c, &[10, 20]) - 100.0).abs() < 1e-9);
        assert!((weighted_score(&c, &[5, 0]) - 15.0).abs() < 1e-9);
    }

    #[test]
    fn strict_and_lenient_reviewers_weigh_the_same() {
        let (a, b, c) = (WorkId(1), WorkId(2), WorkId(3));
        let (strict, lenient) = (UserId(10), UserId(11));
        // Strict prefers b over a; lenient prefers a over b by the same margin in its own
        // spread; c is everyone's last.
        let scores = [
            Scored {
                work: a,
                reviewer: strict,
                score: 40.0,
            },
            Scored {
                work: b,
                reviewer: strict,
                score: 50.0,
            },
            Scored {
                work: c,
                reviewer: strict,
                score: 30.0,
            },
            Scored {
                work: a,
                reviewer: lenient,
                score: 95.0,
            },
            Scored {
                work: b,
                reviewer: lenient,
                score: 90.0,
            },
            Scored {
                work: c,
                reviewer: lenient,
                score: 85.0,
            },
        ];
        let r = results(&[a, b, c], &scores);
        assert_eq!(r.iter().map(|x| x.work).collect::<Vec<_>>(), vec![b, a, c]);
        assert_eq!(r[2].rank, 3);
        assert!(
            r.iter().all(|x| x.disagreement),
            "spread of 45+ points is flagged"
        );
    }

    #[test]
    fn trimmed_mean_from_five_and_ties_by_id() {
        let w = WorkId(7);
        let scores: Vec<Scored> = [10.0, 60.0, 70.0, 80.0, 100.0]
            .iter()
            .enumerate()
            .map(|(i, s)| Scored {
                work: w,
                reviewer: UserId(i as i64),
                score: *s,
            })
            .collect();
        let r = results(&[w, WorkId(3)], &scores);
        assert_eq!(r[0].work, w);
        assert!((r[0].score - 70.0).abs() < 1e-9);
        assert!((r[0].mean - 64.0).abs() < 1e-9);
        assert_eq!((r[1].work, r[1].count, r[1].rank), (WorkId(3), 0, 2));
        let tied = results(&[WorkId(5), WorkId(4)], &[]);
        assert_eq!(tied[0].work, WorkId(4));
    }

    #[test]
    fn advancement_rules() {
        let s = |w, score| Scored {
            work: WorkId(w),
            reviewer: UserId(w),
            score,
        };
        let ranking = results(
            &[WorkId(1), WorkId(2), WorkId(3), WorkId(4)],
            &[s(1, 90.0), s(2, 70.0), s(3, 50.0)],
        );
        let ids = |v: Vec<WorkId>| v.into_iter().map(|w| w.get()).collect::<Vec<_>>();
        // One score per reviewer: z is 0 for each, so the raw score decides.
        assert_eq!(
            ids(Advance::TopN { count: 2 }.advancing(&ranking)),
            vec![1, 2]
        );
        assert_eq!(
            ids(Advance::TopN { count: 9 }.advancing(&ranking)),
            vec![1, 2, 3]
        );
        assert_eq!(
            ids(Advance::TopShare { percent: 50 }.advancing(&ranking)),
            vec![1, 2]
        );
        assert_eq!(
            ids(Advance::Threshold { score: 60.0 }.advancing(&ranking)),
            vec![1, 2]
        );
    }
}
