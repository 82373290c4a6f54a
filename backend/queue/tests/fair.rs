//! Fair dispatch and quotas against a real `redis-server` (one per test):
//! owners share runner time by their jobs' estimated cost and their
//! weights, a `contest` client's jobs go before every `practice` job, the
//! admin's rejudges wait behind live jobs, an idle owner banks no credit,
//! the admin's changes apply at once, and creates over a quota are refused
//! with when to retry, changing nothing.

use std::time::Duration;

use queue::{
    Claim, ClientUpdate, DEFAULT_QUOTAS, Idempotency, NewSubmission, PriorityClass, Queue,
    QueueConfig, Submitted,
};

mod support;

use support::Fixture;

async fn fixture() -> Fixture {
    let config = QueueConfig { lease_ttl: Duration::from_secs(60), ..QueueConfig::default() };
    let f = support::fixture(config, "p", &[]).await;
    for client in ["cl_a", "cl_b", "cl_c"] {
        f.queue.create_client(client, client, &format!("hash-{client}")).await.unwrap();
    }
    f
}

/// A runner of `languages` with many slots (claims here never complete).
async fn runner(queue: &Queue, id: &str, languages: &[&str]) {
    let runner = support::runner(id, languages, 10_000, queue.config().runner_ttl());
    queue.register_runner(&runner).await.unwrap();
}

/// Submission `sid` of `owner` in `language`, of estimated `cost`.
fn submission(sid: &str, owner: &str, language: &str, cost: u64) -> NewSubmission {
    NewSubmission { owner: owner.into(), cost, ..support::submission(sid, "p", language) }
}

/// Queues `n` one-second jobs of `owner`, `{prefix}{i}`.
async fn backlog(queue: &Queue, owner: &str, prefix: &str, n: usize) {
    for i in 0..n {
        let created = queue.submit(&submission(&format!("{prefix}{i}"), owner, "c", 1000)).await;
        assert!(matches!(created.unwrap(), Submitted::Created(_)));
    }
}

/// The submission ids the next `n` claims of `runner` lease.
async fn claims(queue: &Queue, runner: &str, n: usize) -> Vec<String> {
    let mut leased = Vec::new();
    for i in 0..n {
        match queue.claim(runner, &format!("ls_{runner}_{i}_{}", nanos()), &[]).await.unwrap() {
            Claim::Job(job) => leased.push(job.job.submission_id),
            other => panic!("claim {i}: {other:?}"),
        }
    }
    leased
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn count(ids: &[String], prefix: &str) -> usize {
    ids.iter().filter(|id| id.starts_with(prefix)).count()
}

#[tokio::test]
async fn a_backlog_delays_another_owners_jobs_by_about_one_job_each() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    backlog(&f.queue, "cl_a", "a", 200).await;
    let before = claims(&f.queue, "rn", 20).await;
    assert_eq!(count(&before, "a"), 20);
    backlog(&f.queue, "cl_b", "b", 10).await;
    // Equal costs and weights: turns alternate, the newcomer first (at
    // equal shares, the older job first).
    let next = claims(&f.queue, "rn", 20).await;
    assert_eq!(next[0], "b0", "{next:?}");
    assert_eq!(count(&next, "b"), 10, "{next:?}");
    let last_b = next.iter().rposition(|id| id.starts_with('b')).unwrap();
    assert!(last_b <= 19, "{next:?}");
    // Each owner's jobs keep their FIFO order.
    let bs: Vec<&str> = next.iter().filter(|id| id.starts_with('b')).map(String::as_str).collect();
    assert_eq!(bs, (0..10).map(|i| format!("b{i}")).collect::<Vec<_>>());
    // A's backlog goes on alone, in order.
    assert_eq!(claims(&f.queue, "rn", 3).await, ["a30", "a31", "a32"]);
}

#[tokio::test]
async fn runner_time_is_shared_by_estimated_cost_and_by_weight() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    // A's jobs are estimated 1 s each, B's 5 s: A gets five jobs to B's one.
    for i in 0..40 {
        f.queue.submit(&submission(&format!("a{i}"), "cl_a", "c", 1000)).await.unwrap();
        f.queue.submit(&submission(&format!("b{i}"), "cl_b", "c", 5000)).await.unwrap();
    }
    let leased = claims(&f.queue, "rn", 24).await;
    assert_eq!((count(&leased, "a"), count(&leased, "b")), (20, 4), "{leased:?}");

    // Weight 4 against 1 at equal costs: four jobs to one.
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    let weight = ClientUpdate { weight: Some(4), ..ClientUpdate::default() };
    assert!(f.queue.update_client("cl_c", &weight).await.unwrap());
    backlog(&f.queue, "cl_c", "c", 40).await;
    backlog(&f.queue, "cl_a", "a", 40).await;
    let leased = claims(&f.queue, "rn", 40).await;
    assert_eq!((count(&leased, "c"), count(&leased, "a")), (32, 8), "{leased:?}");
}

#[tokio::test]
async fn a_contest_job_is_leased_before_every_practice_job_queued_before_it() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    let contest = ClientUpdate { class: Some(PriorityClass::Contest), ..ClientUpdate::default() };
    assert!(f.queue.update_client("cl_c", &contest).await.unwrap());
    backlog(&f.queue, "cl_a", "a", 30).await;
    backlog(&f.queue, "cl_b", "b", 30).await;
    claims(&f.queue, "rn", 5).await;
    backlog(&f.queue, "cl_c", "c", 3).await;
    assert_eq!(claims(&f.queue, "rn", 3).await, ["c0", "c1", "c2"]);
    // Back to practice: its next job takes its turn with the others.
    let practice = ClientUpdate { class: Some(PriorityClass::Practice), ..ClientUpdate::default() };
    assert!(f.queue.update_client("cl_c", &practice).await.unwrap());
    backlog(&f.queue, "cl_c", "d", 3).await;
    let next = claims(&f.queue, "rn", 6).await;
    assert_eq!(count(&next, "d"), 2, "{next:?}");
    // A class set while jobs wait moves them at once.
    assert!(f.queue.update_client("cl_b", &contest).await.unwrap());
    let next = claims(&f.queue, "rn", 4).await;
    assert_eq!(count(&next, "b"), 4, "{next:?}");
    // Settings read back, with the defaults where none was set.
    let settings = f.queue.client("cl_b").await.unwrap().unwrap();
    assert_eq!((settings.class, settings.weight), (PriorityClass::Contest, 1));
    assert_eq!(settings.quotas, DEFAULT_QUOTAS);
    assert!(f.queue.client("cl_nope").await.unwrap().is_none());
    assert!(!f.queue.update_client("cl_nope", &contest).await.unwrap(), "no such client");
    assert!(f.queue.client("cl_nope").await.unwrap().is_none(), "nothing made");
}

#[tokio::test]
async fn the_admins_rejudges_wait_behind_live_jobs_and_a_clients_own_do_not() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    backlog(&f.queue, "cl_a", "a", 4).await;
    claims(&f.queue, "rn", 4).await;
    backlog(&f.queue, "cl_b", "b", 3).await;
    f.queue.rejudge("a0", "jb_a0_again", true).await.unwrap();
    f.queue.rejudge("a1", "jb_a1_again", false).await.unwrap();
    let leased = claims(&f.queue, "rn", 5).await;
    // A's own rejudge takes A's turn (after B's older job, at equal
    // shares); the admin's comes after every live job.
    assert_eq!(leased, ["b0", "b1", "a1", "b2", "a0"]);
}

#[tokio::test]
async fn an_idle_owner_banks_no_credit() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    backlog(&f.queue, "cl_a", "a", 100).await;
    // A runs alone for a while; B, idle all along, gains nothing from it.
    claims(&f.queue, "rn", 50).await;
    backlog(&f.queue, "cl_b", "b", 20).await;
    let next = claims(&f.queue, "rn", 10).await;
    assert_eq!(count(&next, "b"), 5, "{next:?}");
}

#[tokio::test]
async fn a_runner_gets_another_owners_job_when_it_cannot_run_the_fair_ones() {
    let f = fixture().await;
    runner(&f.queue, "rn_py", &["python3"]).await;
    runner(&f.queue, "rn_c", &["c"]).await;
    backlog(&f.queue, "cl_a", "a", 40).await;
    f.queue.submit(&submission("b_py", "cl_b", "python3", 1000)).await.unwrap();
    assert_eq!(claims(&f.queue, "rn_py", 1).await, ["b_py"]);
    let queued = f.queue.owner_counts().await.unwrap();
    assert_eq!((queued["cl_a"].queued, queued["cl_a"].running), (40, 0));
    assert_eq!((queued["cl_b"].queued, queued["cl_b"].running), (0, 1));
}

#[tokio::test]
async fn the_61st_create_in_a_minute_under_60_is_refused_with_when_to_retry() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    let rate = ClientUpdate { creates_per_minute: Some(60), ..ClientUpdate::default() };
    assert!(f.queue.update_client("cl_a", &rate).await.unwrap());
    let keyed = |n: usize| {
        let mut s = submission(&format!("a{n}"), "cl_a", "c", 1000);
        s.idempotency = Some(Idempotency { key: format!("k{n}"), fingerprint: "f".into() });
        s
    };
    for n in 0..60 {
        assert_eq!(f.queue.submit(&keyed(n)).await.unwrap(), Submitted::Created(format!("a{n}")));
    }
    let refused = f.queue.submit(&keyed(60)).await.unwrap();
    let Submitted::OverQuota(refusal) = refused else { panic!("{refused:?}") };
    assert_eq!(refusal.reason, "rate_limited");
    assert!(refusal.retry_after > Duration::from_secs(50), "{refusal:?}");
    assert!(refusal.retry_after <= Duration::from_secs(60), "{refusal:?}");
    assert_eq!(f.queue.over_quota("cl_a").await.unwrap().map(|r| r.reason), Some("rate_limited"));
    // Nothing of it was stored, the key included; a retry of an accepted
    // key is still its first answer.
    assert!(f.queue.submission("a60").await.unwrap().is_none());
    let key = keyed(60).idempotency.unwrap();
    assert_eq!(f.queue.earlier_create("cl_a", &key).await.unwrap(), None);
    assert_eq!(f.queue.submit(&keyed(7)).await.unwrap(), Submitted::Replayed("a7".into()));
    assert_eq!(f.queue.stats().await.unwrap().pending, 60);
    // Other clients and the admin are not held by A's quota.
    assert!(matches!(
        f.queue.submit(&submission("b0", "cl_b", "c", 1000)).await.unwrap(),
        Submitted::Created(_)
    ));
    // A raised limit applies to the next create.
    let raised = ClientUpdate { creates_per_minute: Some(61), ..ClientUpdate::default() };
    f.queue.update_client("cl_a", &raised).await.unwrap();
    assert_eq!(f.queue.submit(&keyed(60)).await.unwrap(), Submitted::Created("a60".into()));
    let counts = f.queue.owner_counts().await.unwrap();
    assert_eq!(counts["cl_a"].refused.get("rate_limited"), Some(&2), "the read counts too");
}

#[tokio::test]
async fn a_full_queue_refuses_creates_until_a_job_is_leased_and_the_admin_has_no_quota() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    let small = ClientUpdate { max_queued: Some(3), ..ClientUpdate::default() };
    f.queue.update_client("cl_a", &small).await.unwrap();
    backlog(&f.queue, "cl_a", "a", 3).await;
    let refused = f.queue.submit(&submission("a3", "cl_a", "c", 1000)).await.unwrap();
    let Submitted::OverQuota(refusal) = refused else { panic!("{refused:?}") };
    assert_eq!(refusal.reason, "queue_full");
    assert!(refusal.retry_after >= Duration::from_secs(1));
    claims(&f.queue, "rn", 1).await;
    assert!(matches!(
        f.queue.submit(&submission("a3", "cl_a", "c", 1000)).await.unwrap(),
        Submitted::Created(_)
    ));
    // The admin is the operator: no quota holds it.
    backlog(&f.queue, "admin", "adm", 5).await;
    assert_eq!(f.queue.owner_counts().await.unwrap()["admin"].queued, 5);
}

#[tokio::test]
async fn jobs_queued_by_an_older_backend_are_adopted_at_start() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    backlog(&f.queue, "cl_a", "a", 2).await;
    // As an older backend left them: in the pending set only.
    let client = redis::Client::open(f.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for key in ["{gavel}:queue:cl_a", "{gavel}:ready:practice"] {
        redis::cmd("DEL").arg(key).exec_async(&mut conn).await.unwrap();
    }
    for job in ["jb_a0", "jb_a1"] {
        let key = format!("{{gavel}}:job:{job}");
        redis::cmd("HDEL").arg(&key).arg("queue").arg("cost").exec_async(&mut conn).await.unwrap();
    }
    let again = Queue::connect(&f.redis.url(), f.queue.config().clone()).await.unwrap();
    assert_eq!(claims(&again, "rn", 2).await, ["a0", "a1"]);
}

#[tokio::test]
async fn at_equal_shares_the_older_job_goes_first() {
    let f = fixture().await;
    runner(&f.queue, "rn", &["c"]).await;
    // Both owners new, so equal shares: B's job was queued first.
    backlog(&f.queue, "cl_b", "b", 1).await;
    backlog(&f.queue, "cl_a", "a", 1).await;
    assert_eq!(claims(&f.queue, "rn", 2).await, ["b0", "a0"]);
}
