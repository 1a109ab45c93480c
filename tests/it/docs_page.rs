//! The API reference at /docs: Swagger UI's files are ours (compiled in), under a policy that
//! allows nothing from other hosts and no framing, and the page renders every operation in a
//! real headless Chromium that cannot resolve any host name (offline).

use bluewhale::http::docs_page::CONTENT_SECURITY_POLICY;
use bluewhale_tests::TestApp;
use bluewhale_tests::browser::Browser;
use fantoccini::Locator;

#[tokio::test]
async fn the_docs_and_their_assets_are_ours_alone_under_a_strict_policy() {
    let app = TestApp::options().without_worker().spawn().await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/docs/", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let mut references = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for reference in html.split(attribute).skip(1) {
            references.push(reference.split('"').next().unwrap().to_owned());
        }
    }
    assert!(references.len() >= 4, "{html}");
    for target in references
        .iter()
        .chain([&"swagger-initializer.js".to_owned()])
    {
        assert!(
            !target.contains("//"),
            "/docs/ references another host: {target}"
        );
        let url = format!("{}/docs/{}", app.base_url, target.trim_start_matches("./"));
        let response = http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let headers = response.headers();
        assert_eq!(headers["content-security-policy"], CONTENT_SECURITY_POLICY);
        assert_eq!(headers["x-frame-options"], "DENY", "{url}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        let body = response.bytes().await.unwrap();
        assert!(body.len() > 100, "{url} is served empty");
    }
    // The initializer reads our document and switches the public validator off.
    let initializer = http
        .get(format!("{}/docs/swagger-initializer.js", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("\"/openapi.json\""), "{initializer}");
    assert!(
        initializer.contains("\"validatorUrl\": \"none\""),
        "{initializer}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn the_docs_render_every_operation_offline() {
    let app = TestApp::options().without_worker().spawn().await;
    let document: serde_json::Value = reqwest::get(format!("{}/openapi.json", app.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();

    let browser = Browser::launch().await;
    browser
        .client
        .goto(&format!("{}/docs", app.base_url))
        .await
        .unwrap();
    browser
        .text_until(".info .title", |t| t.contains("Blue Whale"))
        .await;
    browser.element("#operations-orders-submit").await;
    let shown = browser
        .client
        .find_all(Locator::Css(".opblock"))
        .await
        .unwrap()
        .len();
    assert_eq!(
        shown, operations,
        "every operation of the document is shown"
    );
    let loaded = browser.loaded_resources().await;
    assert!(
        loaded.iter().any(|url| url.ends_with("/openapi.json")),
        "{loaded:?}"
    );
    for url in loaded {
        assert!(url.starts_with(&app.base_url), "the docs loaded {url}");
    }
    browser.close().await;
    app.cleanup().await;
}
