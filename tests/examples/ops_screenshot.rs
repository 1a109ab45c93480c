//! Signs in to a running system's ops page in headless Chromium and saves a screenshot once
//! the latency chart shows at least `points` 15 s buckets with commands (default 3), e.g. while
//! `scripts/bench.sh` runs:
//!
//! `cargo run -p bluewhale-tests --example ops_screenshot -- http://127.0.0.1:8080 docs/ops-page.png`
//!
//! Signs in as `BW_OPS_EMAIL` (default the demo handler) with `BLUEWHALE_DEMO_PASSWORD`
//! (default the quick start's `bluewhale-demo`). With `BW_OPS_DISCARD_REASON` set it then
//! discards, through the page, the first open dead letter it lists, with that reason.

use std::time::Duration;

use bluewhale_tests::browser::Browser;
use bluewhale_tests::world::HANDLER_EMAIL;
use fantoccini::Locator;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(base_url), Some(output)) = (args.next(), args.next()) else {
        eprintln!("usage: ops_screenshot <base url> <output.png> [points]");
        std::process::exit(2);
    };
    let points: usize = args
        .next()
        .map_or(3, |p| p.parse().expect("points: a number"));
    let email = std::env::var("BW_OPS_EMAIL").unwrap_or_else(|_| HANDLER_EMAIL.to_owned());
    let password =
        std::env::var("BLUEWHALE_DEMO_PASSWORD").unwrap_or_else(|_| "bluewhale-demo".to_owned());

    let browser = Browser::launch().await;
    browser
        .client
        .goto(&format!("{base_url}/ops"))
        .await
        .expect("open /ops");
    for (field, value) in [("#email", email.as_str()), ("#password", password.as_str())] {
        browser
            .element(field)
            .await
            .send_keys(value)
            .await
            .expect("type");
    }
    browser
        .element("#signin-submit")
        .await
        .click()
        .await
        .expect("sign in");
    browser.element("#queues tr[data-consumer]").await;

    // The charts fill one 15 s bucket at a time: wait for them, up to five minutes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let drawn = browser
            .client
            .find_all(Locator::Css("svg#chart-latency circle.p50"))
            .await
            .map_or(0, |found| found.len());
        // A consumer's rate needs two readings, the page's first refresh has one.
        let rate = match browser
            .client
            .find(Locator::Css("#queues tr[data-consumer] td:last-child"))
            .await
        {
            Ok(cell) => cell.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if drawn >= points && !rate.is_empty() && rate != "—" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the latency chart shows {drawn} buckets after five minutes: is anything running?"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let png = browser.client.screenshot().await.expect("screenshot");
    std::fs::write(&output, png).expect("write the screenshot");
    println!("{output}");
    if let Ok(reason) = std::env::var("BW_OPS_DISCARD_REASON") {
        let row = browser.element("tr[data-dead-letter-id]").await;
        let id = row
            .attr("data-dead-letter-id")
            .await
            .expect("attribute")
            .expect("an id");
        row.find(Locator::Css("button.discard"))
            .await
            .expect("a Discard button")
            .click()
            .await
            .expect("click");
        browser
            .element("#discard-reason")
            .await
            .send_keys(&reason)
            .await
            .expect("type");
        browser
            .element("#discard-confirm")
            .await
            .click()
            .await
            .expect("confirm");
        browser
            .gone(&format!("tr[data-dead-letter-id=\"{id}\"]"))
            .await;
        println!("discarded dead letter {id}");
    }
    browser.close().await;
}
