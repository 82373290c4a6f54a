//! Arbitrary bytes as every request body the backend parses: a body either
//! fails to parse or round-trips (serialize, parse again: an equal value).
#![no_main]

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use protocol::{client, normal_oj, runner, runs};

fn round_trip<T>(data: &[u8])
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let Ok(value) = serde_json::from_slice::<T>(data) else { return };
    let json = serde_json::to_vec(&value).expect("a parsed value serializes");
    let again: T = match serde_json::from_slice(&json) {
        Ok(again) => again,
        Err(e) => panic!(
            "{} does not parse its own JSON {}: {e}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&json)
        ),
    };
    assert_eq!(
        value,
        again,
        "{} changed through {}",
        std::any::type_name::<T>(),
        String::from_utf8_lossy(&json)
    );
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    round_trip::<runner::RegisterRequest>(data);
    round_trip::<runner::HeartbeatRequest>(data);
    round_trip::<runner::EventsRequest>(data);
    round_trip::<runner::CompleteRequest>(data);
    round_trip::<client::SubmitRequest>(data);
    round_trip::<runs::RunRequest>(data);
    round_trip::<normal_oj::RegisterRequest>(data);
    round_trip::<normal_oj::HeartbeatRequest>(data);
    round_trip::<normal_oj::CompleteRequest>(data);
    round_trip::<normal_oj::AbortRequest>(data);
});
