//! The OpenAPI document tells clients the truth (issue 9 §2): query parameters in the query and
//! optional, bounds as enforced, errors as problem+json, the write headers declared.

use bluewhale_tests::{TestApp, world};
use serde_json::Value;

use crate::http_errors::problem;

fn param<'a>(operation: &'a Value, name: &str) -> &'a Value {
    operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no parameter {name} in {operation}"))
}

#[tokio::test]
async fn the_document_declares_parameters_errors_and_write_headers_as_served() {
    let app = TestApp::options().without_worker().spawn().await;
    let doc: Value = app
        .http
        .get(format!("{}/openapi.json", app.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = &doc["paths"]["/api/v1/products"]["get"];
    let page = param(list, "page");
    assert_eq!(
        (page["in"].as_str(), page["required"].as_bool()),
        (Some("query"), Some(false))
    );
    assert_eq!(page["schema"]["minimum"], 1);
    assert_eq!(page["schema"]["maximum"], 100000);
    assert_eq!(param(list, "per_page")["schema"]["maximum"], 100);
    for status in ["401", "422", "500", "503"] {
        let content = &list["responses"][status]["content"];
        assert!(
            content["application/problem+json"]["schema"]["$ref"]
                .as_str()
                .is_some_and(|r| r.ends_with("/Problem")),
            "{status}: {content}"
        );
        assert!(content.get("application/json").is_none(), "{status}");
    }
    let confirm = &doc["paths"]["/api/v1/purchase-orders/{id}/confirm"]["post"];
    let key = param(confirm, "Idempotency-Key");
    assert_eq!(
        (key["in"].as_str(), key["required"].as_bool()),
        (Some("header"), Some(true))
    );
    assert_eq!(param(confirm, "If-Match")["in"], "header");
    assert_eq!(param(confirm, "Prefer")["required"], false);
    for status in ["404", "409", "412", "413", "415", "422"] {
        assert!(
            confirm["responses"].get(status).is_some(),
            "confirm {status}"
        );
    }
    assert!(
        confirm["responses"]["202"]["headers"]
            .get("Location")
            .is_some()
    );

    // As served: a page beyond the bound is refused, not echoed.
    let token = app.login(world::STATION_EMAIL).await;
    let refused = problem(
        app.get("/api/v1/products?page=2147483648", &token).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "page");
    app.cleanup().await;
}
