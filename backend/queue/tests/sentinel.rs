//! The queue on a replicated Redis (a primary, replicas and three
//! Sentinels, all local processes on 127.0.0.1, [`ReplicaSet`]): an
//! acknowledged write returns only once a replica has it, is refused
//! within the `WAIT` timeout (then at once) when no replica is there, and
//! the queue finds the new primary by itself after the old one is killed,
//! with every acknowledged write still there.

use std::time::{Duration, Instant};

use queue::managed::{ReplicaSet, SentinelTiming};
use queue::{
    Idempotency, NewSubmission, Queue, QueueConfig, QueueError, RedisTarget, Replication,
    Sentinels, Submitted,
};

mod support;

use support::digest;

const WAIT_TIMEOUT: Duration = Duration::from_millis(500);

async fn connect(set: &ReplicaSet, min_replicas: u32) -> Queue {
    let sentinels = Sentinels::parse(&set.sentinel_addrs(), ReplicaSet::MASTER_NAME).unwrap();
    let config = QueueConfig {
        replication: Replication { min_replicas, timeout: WAIT_TIMEOUT },
        redis_timeout: Duration::from_secs(5),
        ..QueueConfig::default()
    };
    Queue::connect_to(&RedisTarget::Sentinel(sentinels), config).await.unwrap()
}

/// The problem every submission is for, and a runner offering JavaScript
/// (a create for a language no runner offers is refused).
async fn prepare(queue: &Queue) {
    queue.put_problem("a-plus-b", &digest(2), "{}", []).await.unwrap();
    let runner = support::runner("rn_js", &["javascript"], 1, Duration::from_secs(600));
    queue.register_runner(&runner).await.unwrap();
}

fn submission(sid: &str) -> NewSubmission {
    NewSubmission {
        idempotency: Some(Idempotency { key: format!("key-{sid}"), fingerprint: sid.into() }),
        ..support::submission(sid, "a-plus-b", "javascript")
    }
}

/// Whether the node on `port` holds submission `sid` (read there directly).
fn node_has(port: u16, sid: &str) -> bool {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(1)).unwrap();
    redis::cmd("EXISTS").arg(format!("{{gavel}}:sub:{sid}")).query::<u32>(&mut conn).unwrap() == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_wait_for_a_replica_and_are_refused_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = ReplicaSet::start(dir.path(), 1, SentinelTiming::TEST).expect("replica set");
    let (primary, replica) = (set.node_ports()[0], set.node_ports()[1]);
    let queue = connect(&set, 1).await;
    prepare(&queue).await;

    assert_eq!(queue.submit(&submission("sb_1")).await.unwrap(), Submitted::Created("sb_1".into()));
    // Acknowledged means the replica has it, not "will have it soon".
    assert!(node_has(replica, "sb_1"), "the replica holds the acknowledged submission");
    let status = queue.redis_status().await;
    assert_eq!((status.role, status.replicas, status.min_replicas), ("primary", Some(1), 1));
    assert_eq!(status.primary, format!("127.0.0.1:{primary}"));

    // A stalled replica: the write waits out the WAIT timeout, then is
    // refused, and nothing tells the caller it is stored.
    set.pause_node(replica, true).unwrap();
    let started = Instant::now();
    let refused = queue.submit(&submission("sb_2")).await;
    let took = started.elapsed();
    assert!(
        matches!(refused, Err(QueueError::NotReplicated { acked: 0, wanted: 1, .. })),
        "{refused:?}"
    );
    assert!(took >= WAIT_TIMEOUT && took < WAIT_TIMEOUT + Duration::from_secs(2), "{took:?}");
    set.pause_node(replica, false).unwrap();
    // The refused write stayed on the primary: its retry (same key) finds
    // it, and is acknowledged now that the replica has it.
    let retried = queue.submit(&submission("sb_2")).await.unwrap();
    assert_eq!(retried, Submitted::Replayed("sb_2".into()));
    assert!(node_has(replica, "sb_2"));

    // A replica that is gone: the first write waits out the timeout, the
    // next ones are refused at once, unwritten (too few replicas connected).
    set.kill_node(replica);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = queue.submit(&submission("sb_3")).await;
    assert!(refused.as_ref().is_err_and(QueueError::is_not_replicated), "{refused:?}");
    let started = Instant::now();
    let refused = queue.submit(&submission("sb_4")).await;
    assert!(refused.as_ref().is_err_and(QueueError::is_not_replicated), "{refused:?}");
    assert!(started.elapsed() < WAIT_TIMEOUT, "refused at once: {:?}", started.elapsed());
    assert!(queue.submission("sb_4").await.unwrap().is_none(), "refused before it was written");
    let status = queue.redis_status().await;
    assert_eq!(status.replicas, Some(0));
    assert!(status.unreplicated_writes >= 3, "{status:?}");

    // The replica comes back: the retry with the same key is acknowledged
    // (replayed or created, one record either way).
    set.restart_node(replica).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let retried = loop {
        match queue.submit(&submission("sb_3")).await {
            Ok(outcome) => break outcome,
            Err(e) if e.is_not_replicated() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the retry after the replica came back: {e}"),
        }
    };
    assert!(
        matches!(&retried, Submitted::Created(id) | Submitted::Replayed(id) if id == "sb_3"),
        "{retried:?}"
    );
    assert!(node_has(replica, "sb_3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_follows_a_failover_and_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    // Two replicas: after the failover the new primary still has one, so
    // writes are acknowledged again without the dead node.
    let mut set = ReplicaSet::start(dir.path(), 2, SentinelTiming::TEST).expect("replica set");
    let old = set.node_ports()[0];
    let queue = connect(&set, 1).await;
    prepare(&queue).await;
    for i in 0..20 {
        queue.submit(&submission(&format!("sb_{i}"))).await.unwrap();
    }

    set.kill_node(old);
    let killed = Instant::now();
    // One create, retried with its key until it is acknowledged.
    let deadline = killed + Duration::from_secs(30);
    let mut refusals = 0;
    loop {
        match queue.submit(&submission("sb_after")).await {
            Ok(outcome) => {
                assert!(matches!(outcome, Submitted::Created(_) | Submitted::Replayed(_)));
                break;
            }
            Err(e) if Instant::now() < deadline => {
                refusals += 1;
                if refusals == 1 {
                    eprintln!("first refusal after the kill: {e}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("no write acknowledged within 30 s of the kill: {e}"),
        }
    }
    let pause = killed.elapsed();
    eprintln!("failover pause (kill -9 → first acknowledged write): {pause:?}");

    let status = queue.redis_status().await;
    assert_ne!(status.primary, format!("127.0.0.1:{old}"), "{status:?}");
    assert_eq!(status.role, "primary");
    assert!(status.failovers >= 1);
    assert_eq!(Some(status.primary.clone()), set.primary_port().map(|p| format!("127.0.0.1:{p}")));
    for i in 0..20 {
        let sid = format!("sb_{i}");
        assert!(queue.submission(&sid).await.unwrap().is_some(), "{sid} lost in the failover");
    }
    assert!(queue.submission("sb_after").await.unwrap().is_some());
}
