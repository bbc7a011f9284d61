use std::time::Duration;

use super::support::{request, t};
use crate::push::store::{ANSWERED_RETENTION, Inserted};
use crate::push::{PushError, PushRequestStore};

#[test]
fn a_request_arriving_twice_is_kept_once_with_its_first_arrival() {
    let mut store = PushRequestStore::new();
    assert_eq!(
        store.insert(request("N1", t(100)), t(100)).unwrap(),
        Inserted::New
    );
    // The same challenge from a poll a few seconds later.
    assert_eq!(
        store.insert(request("N1", t(103)), t(103)).unwrap(),
        Inserted::Duplicate
    );
    let pending = store.pending(t(104));
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].received_at, t(100));
}

#[test]
fn pending_lists_oldest_first_and_drops_expired() {
    let mut store = PushRequestStore::new();
    store.insert(request("B", t(150)), t(150)).unwrap();
    store.insert(request("A", t(100)), t(150)).unwrap();
    let nonces: Vec<String> = store.pending(t(160)).into_iter().map(|r| r.nonce).collect();
    assert_eq!(nonces, ["A", "B"]);
    // A expires at 220, B at 270.
    let nonces: Vec<String> = store.pending(t(220)).into_iter().map(|r| r.nonce).collect();
    assert_eq!(nonces, ["B"]);
    assert!(store.pending(t(270)).is_empty());
}

#[test]
fn an_expired_request_is_refused() {
    let mut store = PushRequestStore::new();
    let err = store.insert(request("OLD", t(100)), t(220)).unwrap_err();
    assert_eq!(
        err,
        PushError::Expired {
            nonce: "OLD".to_owned(),
            validity: Duration::from_secs(120)
        }
    );
    assert_eq!(
        err.to_string(),
        "push request OLD expired (it could be answered for 120 s)"
    );

    store.insert(request("N", t(100)), t(100)).unwrap();
    assert!(matches!(store.get_answerable("N", t(219)), Ok(r) if r.nonce == "N"));
    assert!(matches!(
        store.get_answerable("N", t(220)),
        Err(PushError::Expired { .. })
    ));
}

#[test]
fn an_answered_nonce_is_never_accepted_again_until_long_after() {
    let mut store = PushRequestStore::new();
    store.insert(request("N", t(100)), t(100)).unwrap();
    store.mark_answered("N", t(110));
    assert!(store.is_answered("N"));
    assert!(store.pending(t(111)).is_empty());
    assert_eq!(
        store.get_answerable("N", t(111)).unwrap_err(),
        PushError::Replayed {
            nonce: "N".to_owned()
        }
    );
    // Re-delivered (say by a later poll, or replayed by someone) while still fresh.
    let err = store.insert(request("N", t(115)), t(115)).unwrap_err();
    assert_eq!(
        err,
        PushError::Replayed {
            nonce: "N".to_owned()
        }
    );
    assert_eq!(err.to_string(), "push request N was already answered");

    let forget_at = t(110) + ANSWERED_RETENTION;
    assert!(store.insert(request("N", forget_at), forget_at).is_ok());
}

#[test]
fn an_unknown_nonce_is_named() {
    let store = PushRequestStore::new();
    assert_eq!(
        store.get_answerable("NOPE", t(0)).unwrap_err(),
        PushError::NoSuchRequest {
            nonce: "NOPE".to_owned()
        }
    );
}
