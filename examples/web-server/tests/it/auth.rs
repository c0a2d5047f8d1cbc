//! Identity and writes: signed bearer tokens, authenticated writes, and body limits, each
//! rejected request leaving the cache and the database untouched.

use crate::common;

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};

use common::{Server, signer, start, start_configured, user_token};

/// Status and `error` message of a response, after checking the body is JSON.
async fn error_of(request: RequestBuilder) -> (StatusCode, String) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    let message = body["error"].as_str().expect("a JSON error message");
    (status, message.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommendations_need_a_valid_unexpired_token_and_key_on_its_user() {
    let server = start(None).await;
    let url = format!("{}/me/recommendations", server.base);
    let other_secret = web_server::auth::TokenAuth::new(&[9; 32], false).unwrap();
    let cases = [
        (
            None,
            "authentication required: send Authorization: Bearer <token>",
        ),
        (Some("not-a-token".to_string()), "malformed bearer token"),
        (
            Some(other_secret.mint(1, 60).0),
            "invalid bearer token signature",
        ),
        (Some(signer().mint_until(1, 1)), "bearer token expired"),
        (
            // A valid token for user 1 with the user id changed to 2: the signature no longer fits.
            Some(user_token(1).replacen("1.", "2.", 1)),
            "invalid bearer token signature",
        ),
    ];
    for (token, expected) in cases {
        let mut request = server.client.get(&url).header("X-User-Id", "1");
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], expected, "{token:?}");
    }
    assert_eq!(
        server.loads("recommendations").await,
        0.0,
        "no rejected request loads anything"
    );

    // The identity is the token's: an X-User-Id naming someone else changes nothing.
    let response = server
        .client
        .get(&url)
        .bearer_auth(user_token(2))
        .header("X-User-Id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user_id"], 2);
    assert_eq!(server.loads("recommendations").await, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_route_mints_accepted_tokens_only_when_switched_on() {
    let server = start(None).await;
    let minted = server
        .client
        .post(format!("{}/demo/token", server.base))
        .json(&json!({ "user_id": 5, "ttl_secs": 120 }))
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), StatusCode::OK);
    let minted: Value = minted.json().await.unwrap();
    assert_eq!(minted["user_id"], 5);
    let token = minted["token"].as_str().unwrap();
    let mine: Value = server
        .client
        .get(format!("{}/me/recommendations", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["user_id"], 5);

    for (body, expected) in [
        (
            json!({ "user_id": 0 }),
            "user_id must be a positive integer",
        ),
        (
            json!({ "user_id": 1, "ttl_secs": 0 }),
            "ttl_secs must be between 1 and 86400",
        ),
    ] {
        let (status, message) = error_of(
            server
                .client
                .post(format!("{}/demo/token", server.base))
                .json(&body),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(message, expected);
    }

    let production = start_configured(None, None, None, |c| c.demo_auth = false).await;
    let (status, message) = error_of(
        production
            .client
            .post(format!("{}/demo/token", production.base))
            .json(&json!({ "user_id": 5 })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message, "route not found");
}

/// `GET /stores/3`: the store as the API shows it (its version is read from the database).
async fn store_3(server: &Server) -> Value {
    server.get("/stores/3").await.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_an_authenticated_caller_and_rejected_ones_touch_nothing() {
    let server = start(None).await;
    let store_before = store_3(&server).await;
    let post_before: Value = server.get("/posts/1").await.json().await.unwrap();
    let (store_loads, post_loads) = (server.loads("stores").await, server.loads("posts").await);

    let expired = signer().mint_until(1, 1);
    for token in [None, Some("garbage"), Some(expired.as_str())] {
        let mut patch = server
            .client
            .patch(format!("{}/stores/3", server.base))
            .json(&json!({ "name": "Hijacked" }));
        let mut like = server.client.post(format!("{}/posts/1/like", server.base));
        if let Some(token) = token {
            patch = patch.bearer_auth(token);
            like = like.bearer_auth(token);
        }
        assert_eq!(
            error_of(patch).await.0,
            StatusCode::UNAUTHORIZED,
            "{token:?}"
        );
        assert_eq!(
            error_of(like).await.0,
            StatusCode::UNAUTHORIZED,
            "{token:?}"
        );
    }
    assert_eq!(server.loads("stores").await, store_loads, "no store loaded");
    assert_eq!(server.loads("posts").await, post_loads, "no post loaded");
    assert_eq!(
        store_3(&server).await,
        store_before,
        "the store is unchanged"
    );
    let post_after: Value = server.get("/posts/1").await.json().await.unwrap();
    assert_eq!(post_after["likes"], post_before["likes"], "no like counted");

    let liked = server
        .client
        .post(format!("{}/posts/1/like", server.base))
        .bearer_auth(user_token(1))
        .send()
        .await
        .unwrap();
    assert_eq!(liked.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_413_415_422_with_messages_and_change_nothing() {
    let server = start(None).await;
    let store_before = store_3(&server).await;
    let store_loads = server.loads("stores").await;
    let url = format!("{}/stores/3", server.base);
    let token = user_token(1);
    let patch = || server.client.patch(&url).bearer_auth(&token);
    let json_patch = |body: Value| patch().json(&body);
    let long = |n: usize| "x".repeat(n);

    let oversized = json!({ "address": long(17 * 1024) });
    let cases = [
        (
            json_patch(oversized),
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is larger than the limit of 16384 bytes",
        ),
        (
            patch()
                .header("content-type", "text/plain")
                .body(r#"{"name": "Plain"}"#),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON with Content-Type: application/json",
        ),
        (
            patch().body(r#"{"name": "No type"}"#),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON with Content-Type: application/json",
        ),
        (
            json_patch(json!({ "name": long(201) })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name is 201 characters long; the limit is 200",
        ),
        (
            json_patch(json!({ "phone": long(41) })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "phone is 41 characters long; the limit is 40",
        ),
        (
            json_patch(json!({ "address": long(301) })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "address is 301 characters long; the limit is 300",
        ),
        (
            json_patch(json!({ "opening_hours": long(501) })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "opening_hours is 501 characters long; the limit is 500",
        ),
        (
            json_patch(json!({ "name": "   " })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name must not be blank",
        ),
        (
            json_patch(json!({ "name": "Bell\u{7}" })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name must not contain control characters",
        ),
        (
            json_patch(json!({ "name": 5 })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name: invalid type: integer `5`, expected a string",
        ),
        (
            json_patch(json!({ "colour": "red" })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field `colour`",
        ),
        (
            patch()
                .header("content-type", "application/json")
                .body("{\"name\": "),
            StatusCode::BAD_REQUEST,
            "EOF while parsing",
        ),
    ];
    for (request, status, expected) in cases {
        let (got, message) = error_of(request).await;
        assert_eq!(got, status, "{message}");
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
    assert_eq!(server.loads("stores").await, store_loads, "no store loaded");
    assert_eq!(
        store_3(&server).await,
        store_before,
        "the store is unchanged"
    );

    // Right at every limit is accepted.
    let at_limits = json!({ "name": long(200), "phone": long(40), "address": long(300),
                            "opening_hours": long(500) });
    let accepted = json_patch(at_limits).send().await.unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["name"], long(200));
}
