//! What operators read about the runner fleet: a registered runner
//! ([`RunnerInfo`]) and, as `GET /runners`, `gavel runners` and the
//! dashboard's live stream show it, with whether it is alive and the jobs it
//! holds ([`RunnerStatus`]).

use serde::{Deserialize, Serialize};

/// A registered runner, as it registered and last called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunnerInfo {
    pub runner_id: String,
    pub name: String,
    pub labels: Vec<String>,
    pub slots: u32,
    pub languages: Vec<String>,
    pub active_jobs: u64,
    pub last_seen_ms: u64,
}

/// A registered runner as `GET /runners` and the dashboard show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunnerStatus {
    #[serde(flatten)]
    pub info: RunnerInfo,
    /// Seen within two heartbeat intervals (what `runners_alive` counts).
    pub alive: bool,
    /// The jobs it holds leases on now.
    pub jobs: Vec<HeldJob>,
}

/// A job a runner holds, and the submission it judges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeldJob {
    pub job_id: String,
    pub submission_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runner_status_is_its_info_flattened_with_its_jobs() {
        let status = RunnerStatus {
            info: RunnerInfo {
                runner_id: "r_1".into(),
                name: "box".into(),
                labels: vec!["gpu".into()],
                slots: 2,
                languages: vec!["javascript".into()],
                active_jobs: 1,
                last_seen_ms: 7,
            },
            alive: true,
            jobs: vec![HeldJob { job_id: "j_1".into(), submission_id: "s_1".into() }],
        };
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["runner_id"], "r_1");
        assert_eq!(json["active_jobs"], 1);
        assert_eq!(json["jobs"][0]["submission_id"], "s_1");
        assert!(json.get("info").is_none(), "{json}");
        assert_eq!(serde_json::from_value::<RunnerStatus>(json).unwrap(), status);
    }
}
