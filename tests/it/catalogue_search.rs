//! Catalogue lists searched by code or name, filtered and sorted by an allow-list, still
//! scoped to what the caller may see.

use bluewhale_tests::{TestApp, world};
use serde_json::Value;

fn codes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn lists_search_filter_and_sort_as_asked_and_refuse_other_sorts() {
    let app = TestApp::spawn().await;
    let token = app.login(world::STATION_EMAIL).await;
    let list = |query: &str| {
        let app = &app;
        let token = token.clone();
        let query = query.to_owned();
        async move { app.get_json(&format!("/api/v1/{query}"), &token).await }
    };

    // Case-insensitive, on the code or the name, counted like the database counts it.
    let trays = list("products?q=tRaY&per_page=100").await;
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM products WHERE code ILIKE '%tray%' OR name ILIKE '%tray%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(expected > 3);
    assert_eq!(trays["total"], expected);
    assert_eq!(codes(&trays).len() as i64, expected);
    // Wildcards are taken literally.
    assert_eq!(list("products?q=%25").await["total"], 0);
    assert_eq!(list("products?q=_").await["total"], 0);
    // Filters and an allow-listed sort.
    let inactive = list("products?active=false").await;
    assert_eq!(codes(&inactive), [world::INACTIVE_PRODUCT]);
    let mut sorted = codes(&list("products?q=tray&sort=-code&per_page=100").await);
    let descending = sorted.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(descending, sorted);
    let category: String = sqlx::query_scalar("SELECT category FROM products WHERE code = $1")
        .bind(world::INACTIVE_PRODUCT)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let in_category = list(&format!("products?category={category}&per_page=100")).await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM products WHERE category = $1")
        .bind(&category)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(in_category["total"], count);
    assert_eq!(
        codes(&list("suppliers?q=plast").await),
        [world::SUPPLIER2_CODE]
    );

    // Anything else is refused, naming the parameter.
    let response = app.get("/api/v1/products?sort=price", &token).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "sort");
    assert_eq!(problem["errors"][0]["code"], "UNKNOWN_SORT");

    // A station still sees only itself, whatever it searches.
    let stations = list("stations?q=st").await;
    assert_eq!(codes(&stations), [world::STATION_CODE]);
    app.cleanup().await;
}
