use serde_json::json;

use crate::push::PushError;
use crate::push::response::{parse, require_true, short_message};

fn body(value: serde_json::Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

#[test]
fn a_successful_envelope_gives_value_and_detail() {
    let envelope = parse(
        200,
        &body(json!({"result": {"status": true, "value": true}, "detail": {"display_code": "31"}})),
    )
    .unwrap();
    assert!(require_true(&envelope).is_ok());
    assert_eq!(envelope.detail["display_code"], "31");
}

#[test]
fn value_false_is_a_rejection_even_with_http_200() {
    let envelope = parse(
        200,
        &body(json!({"result": {"status": true, "value": false}})),
    )
    .unwrap();
    assert_eq!(
        require_true(&envelope).unwrap_err(),
        PushError::Rejected {
            server_message: None
        }
    );
    let envelope = parse(
        200,
        &body(json!({"result": {"status": true, "value": [1]}})),
    )
    .unwrap();
    assert!(matches!(
        require_true(&envelope),
        Err(PushError::Response { .. })
    ));
}

#[test]
fn server_errors_carry_only_a_short_clean_message() {
    let long = format!("Could not verify signature!\n{}", "x".repeat(500));
    let err = parse(
        400,
        &body(json!({"result": {"status": false, "error": {"code": 10, "message": long}}})),
    )
    .unwrap_err();
    let PushError::Server {
        status: 400,
        server_message: Some(message),
    } = &err
    else {
        panic!("{err:?}")
    };
    // The newline became a space; the text was cut to 160 characters and an ellipsis.
    assert_eq!(
        *message,
        format!("Could not verify signature! {}…", "x".repeat(132))
    );
    assert!(message.chars().count() <= 161);
    assert!(!message.contains('\n'));

    assert_eq!(
        parse(502, b"<html>bad gateway</html>").unwrap_err(),
        PushError::Server {
            status: 502,
            server_message: None
        }
    );
    assert!(matches!(
        parse(200, b"<html>"),
        Err(PushError::Response { .. })
    ));
    assert!(matches!(
        parse(200, &body(json!({"result": {"status": false}}))),
        Err(PushError::Server { status: 200, .. })
    ));
    assert_eq!(short_message("a\u{7}b"), "a b");
}
