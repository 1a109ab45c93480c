//! The ops page in a real headless Chromium: served with a strict policy and nothing from other
//! hosts; an operator signs in with the API's own login, sees the dead letters the test created
//! and the attention they need, inspects one, replays it (the order is then priced) and
//! discards another; a station user is turned away; a backlog growing past 100 is marked,
//! a small one is not.

use bluewhale::http::ops_page::CONTENT_SECURITY_POLICY;
use bluewhale_tests::browser::Browser;
use bluewhale_tests::faults::dead_lettered_order;
use bluewhale_tests::{DEMO_PASSWORD, TestApp, world};
use fantoccini::Locator;
use serde_json::Value;

async fn sign_in(browser: &Browser, email: &str) {
    for (field, value) in [("#email", email), ("#password", DEMO_PASSWORD)] {
        let input = browser.element(field).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    browser
        .element("#signin-submit")
        .await
        .click()
        .await
        .unwrap();
}

async fn click(browser: &Browser, css: &str) {
    browser.element(css).await.click().await.unwrap();
}

async fn class_of(browser: &Browser, css: &str) -> String {
    let element = browser.element(css).await;
    element.attr("class").await.unwrap().unwrap_or_default()
}

#[tokio::test]
async fn the_page_and_its_assets_are_ours_alone_under_a_strict_policy() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    for (path, content_type) in [
        ("/ops", "text/html; charset=utf-8"),
        ("/ops/ops.js", "text/javascript; charset=utf-8"),
        ("/ops/ops.css", "text/css; charset=utf-8"),
    ] {
        let response = http
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], content_type, "{path}");
        assert_eq!(
            headers["content-security-policy"], CONTENT_SECURITY_POLICY,
            "{path}"
        );
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let body = response.text().await.unwrap();
        assert!(body.len() > 500, "{path} is served empty");
        if path == "/ops" {
            // Everything the page references is served under /ops/ (or inline data).
            for attribute in ["src=\"", "href=\""] {
                for reference in body.split(attribute).skip(1) {
                    let target = reference.split('"').next().unwrap();
                    assert!(
                        target.starts_with("/ops/") || target.starts_with("data:"),
                        "{path} loads {target}"
                    );
                }
            }
        }
    }
    app.cleanup().await;
}

#[tokio::test]
async fn an_operator_replays_and_discards_dead_letters_from_the_page() {
    let app = TestApp::spawn().await;
    let station = app.login(world::STATION_EMAIL).await;
    let handler = app.login(world::HANDLER_EMAIL).await;
    let (order_id, to_replay) = dead_lettered_order(&app, &station, "page-replay").await;
    let (_, to_discard) = dead_lettered_order(&app, &station, "page-discard").await;
    let replay_row = format!("tr[data-dead-letter-id=\"{to_replay}\"]");
    let discard_row = format!("tr[data-dead-letter-id=\"{to_discard}\"]");

    let browser = Browser::launch().await;
    browser
        .client
        .goto(&format!("{}/ops", app.base_url))
        .await
        .unwrap();

    // A station user is turned away; the page stays signed out.
    sign_in(&browser, world::STATION_EMAIL).await;
    browser
        .text_until("#signin-error", |t| t.contains("ADMIN or HANDLER"))
        .await;
    assert!(
        browser
            .client
            .find(Locator::Css("#dashboard[hidden]"))
            .await
            .is_ok()
    );

    // An operator sees both dead letters and that they need attention.
    sign_in(&browser, world::HANDLER_EMAIL).await;
    browser.element(&replay_row).await;
    browser.element(&discard_row).await;
    browser
        .text_until("#dead-letter-open", |t| t.trim_start().starts_with('2'))
        .await;
    assert!(
        class_of(&browser, "#dead-letter-open")
            .await
            .contains("attention")
    );
    browser
        .text_until("#attention", |t| t.contains("2 open dead letters"))
        .await;
    browser.element("#queues tr[data-consumer]").await;

    // The page loaded nothing from anywhere but the ingress.
    for url in browser.loaded_resources().await {
        assert!(url.starts_with(&app.base_url), "the page loaded {url}");
    }

    // BW_OPS_SCREENSHOT=docs/ops-page.png keeps a picture of the page for the README.
    if let Some(path) = std::env::var_os("BW_OPS_SCREENSHOT") {
        std::fs::write(path, browser.client.screenshot().await.unwrap()).unwrap();
    }

    // Inspect shows the original command.
    click(&browser, &format!("{replay_row} button.inspect")).await;
    browser
        .text_until("#dead-letter-detail .payload", |t| t.contains(&order_id))
        .await;

    // Replay from the page: the dead letter closes and the order is priced.
    click(&browser, &format!("{replay_row} button.replay")).await;
    browser
        .text_until("#flash", |t| t.contains("Replayed"))
        .await;
    browser.gone(&replay_row).await;
    let order = app.wait_until_processed(&station, &order_id).await;
    assert_eq!(order["status"], "REGISTERED");
    assert_eq!(order["total_including_tax"], "5051.40");
    let letter = app
        .get_json(&format!("/api/v1/ops/dead-letters/{to_replay}"), &handler)
        .await;
    assert_eq!(letter["status"], "REPLAYED");
    assert_eq!(
        letter["resolved_by"],
        world::user_id(world::HANDLER_EMAIL).to_string()
    );

    // Discard needs a reason; the page sends it.
    click(&browser, &format!("{discard_row} button.discard")).await;
    let reason = "the station re-sent this order by hand";
    browser
        .element("#discard-reason")
        .await
        .send_keys(reason)
        .await
        .unwrap();
    click(&browser, "#discard-confirm").await;
    browser.gone(&discard_row).await;
    let letter: Value = app
        .get_json(&format!("/api/v1/ops/dead-letters/{to_discard}"), &handler)
        .await;
    assert_eq!(letter["status"], "DISCARDED");
    assert_eq!(letter["resolution_reason"], reason);

    // Nothing is left open, and the page says so.
    browser
        .text_until("#dead-letter-open", |t| t.trim_start().starts_with('0'))
        .await;
    assert!(
        !class_of(&browser, "#dead-letter-open")
            .await
            .contains("attention")
    );
    browser.close().await;
    app.cleanup().await;
}

/// Submits `count` orders (no worker runs: they wait in COMMANDS).
async fn queue_orders(app: &TestApp, token: &str, round: usize, count: usize) {
    for i in 0..count {
        let body = bluewhale_tests::three_supplier_order();
        app.accept_order(token, &format!("backlog-{round}-{i}"), &body)
            .await;
    }
}

#[tokio::test]
async fn a_backlog_growing_past_a_hundred_is_marked_for_attention() {
    // The worker creates its durable consumer, then stops: commands pile up behind it.
    let mut app = TestApp::spawn().await;
    app.stop_worker().await.unwrap();
    let station = app.login(world::STATION_EMAIL).await;
    let browser = Browser::launch().await;
    browser
        .client
        .goto(&format!("{}/ops", app.base_url))
        .await
        .unwrap();
    sign_in(&browser, world::HANDLER_EMAIL).await;
    let pending_cell = "#queues tr[data-consumer$=\"/order-workers\"] td:nth-child(2)";
    let growing = |text: &str| text.contains("Backlog growing");

    // Growing but small (10, 20, 30, 70 over the readings): a queue at work, no attention.
    let mut queued = 0;
    let shown = |queued: usize| {
        let browser = &browser;
        async move {
            // Wait for the page's reading of this backlog.
            browser
                .text_until(pending_cell, |t| t.trim() == queued.to_string())
                .await;
            browser.element("#attention").await.text().await.unwrap()
        }
    };
    for (round, count) in [10, 10, 10, 40].into_iter().enumerate() {
        queue_orders(&app, &station, round, count).await;
        queued += count;
        let attention = shown(queued).await;
        assert!(!growing(&attention), "backlog {queued}: {attention:?}");
    }
    // Growing past 100 over three readings (a reading the page repeats restarts the count,
    // so it may take a round more).
    let mut marked = false;
    for round in 4..9 {
        queue_orders(&app, &station, round, 40).await;
        queued += 40;
        if growing(&shown(queued).await) {
            marked = true;
            break;
        }
    }
    assert!(marked, "a backlog grown to {queued} is not marked");
    let row = browser
        .element("#queues tr[data-consumer$=\"/order-workers\"]")
        .await;
    assert!(
        row.attr("class")
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("attention")
    );
    browser.close().await;
    app.cleanup().await;
}
