//! Prometheus metrics: request latencies measured here (per instance), and
//! queue gauges and counters read from Redis at scrape time (shared by every
//! instance), also per client: jobs queued and running, creates refused by
//! a quota.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(&mut self.counts) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// This instance's request metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// By (method, route, status).
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default()
            .observe(seconds);
    }

    /// The exposition text: the queue's `stats`, each owner's counts (a
    /// client id, or `admin`), this instance's request latencies.
    pub fn render(
        &self,
        stats: &queue::Stats,
        owners: &BTreeMap<String, queue::OwnerCounts>,
    ) -> String {
        let mut out = String::new();
        let gauges = [
            ("gavel_queue_pending", "Jobs waiting for a runner.", stats.pending),
            ("gavel_queue_leased", "Jobs a runner holds a lease on.", stats.leased),
            (
                "gavel_runners_alive",
                "Runners that sent a heartbeat within two intervals.",
                stats.runners_alive,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
        let counters = [
            ("gavel_reclaims_total", "Expired leases reclaimed.", stats.reclaims),
            ("gavel_jobs_completed_total", "Jobs completed by runners.", stats.completed),
            ("gavel_blob_gc_runs_total", "Blob sweeps finished (by any instance).", stats.gc_runs),
            (
                "gavel_blob_gc_swept_blobs_total",
                "Unreferenced blobs the blob sweeps removed.",
                stats.gc_swept_blobs,
            ),
            (
                "gavel_blob_gc_swept_bytes_total",
                "Bytes of the blobs the blob sweeps removed.",
                stats.gc_swept_bytes,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        }
        let name = "gavel_blob_gc_last_run_timestamp_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} When the last blob sweep ended (Unix time; 0: never).\n\
             # TYPE {name} gauge\n{name} {}",
            stats.gc_last_run_ms as f64 / 1000.0
        );
        let _ = writeln!(
            out,
            "# HELP gavel_judgement_errors_total JE verdicts by reason.\n# TYPE gavel_judgement_errors_total counter"
        );
        for (reason, value) in &stats.judgement_errors {
            let _ = writeln!(out, "gavel_judgement_errors_total{{reason=\"{reason}\"}} {value}");
        }
        render_owners(&mut out, owners);
        let name = "gavel_http_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} HTTP request latency.\n# TYPE {name} histogram");
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((method, route, status), h) in requests.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
        out
    }
}

/// This instance's Redis series: writes refused for lack of replicas,
/// the `WAIT`s of acknowledged writes and their time, switches to a new
/// primary, and the primary's connected replicas.
pub fn render_redis(out: &mut String, status: &queue::RedisStatus) {
    let counters = [
        (
            "gavel_redis_unreplicated_writes_total",
            "Acknowledged writes refused (503) because too few replicas had them.",
            status.unreplicated_writes as f64,
        ),
        ("gavel_redis_waits_total", "WAITs run after acknowledged writes.", status.waits as f64),
        (
            "gavel_redis_wait_seconds_total",
            "Time acknowledged writes spent in their WAIT.",
            status.wait_seconds,
        ),
        (
            "gavel_redis_failovers_total",
            "Switches to a new primary named by the Sentinels.",
            status.failovers as f64,
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
    }
    let name = "gavel_redis_connected_replicas";
    let replicas = status.replicas.map_or(-1.0, f64::from);
    let _ = writeln!(
        out,
        "# HELP {name} Replicas connected to the primary (-1: not known).\n# TYPE {name} gauge\n{name} {replicas}"
    );
}

/// The per-client series: `gavel_client_queued`, `gavel_client_running`
/// (gauges) and `gavel_client_refused_total` (by reason), labelled by
/// client id. Ids are `cl_` ULIDs or `admin`, safe in a label.
fn render_owners(out: &mut String, owners: &BTreeMap<String, queue::OwnerCounts>) {
    type Gauge = (&'static str, &'static str, fn(&queue::OwnerCounts) -> u64);
    let gauges: [Gauge; 2] = [
        ("gavel_client_queued", "Jobs a client has queued (not yet leased).", |c| c.queued),
        ("gavel_client_running", "Jobs of a client a runner holds a lease on.", |c| c.running),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (client, counts) in owners {
            let _ = writeln!(out, "{name}{{client=\"{client}\"}} {}", value(counts));
        }
    }
    let name = "gavel_client_refused_total";
    let _ = writeln!(
        out,
        "# HELP {name} Creates refused by a client's quota, by reason.\n# TYPE {name} counter"
    );
    for (client, counts) in owners {
        for (reason, n) in &counts.refused {
            let _ = writeln!(out, "{name}{{client=\"{client}\",reason=\"{reason}\"}} {n}");
        }
    }
}

/// Middleware: times every request under its route pattern (not its path,
/// so ids do not explode the label set).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    metrics.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_rendered_per_route() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/a", 200, 0.0007);
        metrics.observe("GET", "/a", 200, 0.02);
        let text = metrics.render(&queue::Stats { pending: 3, ..Default::default() }, &[].into());
        assert!(text.contains("gavel_queue_pending 3"));
        let labels = "method=\"GET\",route=\"/a\",status=\"200\"";
        assert!(text.contains(&format!(
            "gavel_http_request_duration_seconds_bucket{{{labels},le=\"0.0005\"}} 0"
        )));
        assert!(text.contains(&format!(
            "gavel_http_request_duration_seconds_bucket{{{labels},le=\"0.001\"}} 1"
        )));
        assert!(text.contains(&format!(
            "gavel_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 2"
        )));
        assert!(text.contains(&format!("gavel_http_request_duration_seconds_count{{{labels}}} 2")));
    }

    #[test]
    fn each_client_has_its_queued_running_and_refused_series() {
        let counts = queue::OwnerCounts {
            queued: 7,
            running: 2,
            refused: [("rate_limited".to_string(), 3)].into(),
        };
        let owners = [("cl_a".to_string(), counts), ("admin".into(), Default::default())].into();
        let text = Metrics::default().render(&queue::Stats::default(), &owners);
        assert!(text.contains("gavel_client_queued{client=\"cl_a\"} 7"), "{text}");
        assert!(text.contains("gavel_client_running{client=\"cl_a\"} 2"), "{text}");
        assert!(text.contains("gavel_client_queued{client=\"admin\"} 0"), "{text}");
        assert!(
            text.contains("gavel_client_refused_total{client=\"cl_a\",reason=\"rate_limited\"} 3"),
            "{text}"
        );
        assert!(text.contains("# TYPE gavel_client_refused_total counter"), "{text}");
    }
}
