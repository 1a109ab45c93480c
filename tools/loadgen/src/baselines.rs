//! Baselines measured in the same run (DESIGN §8): the raw JetStream acked-publish rate and the
//! rate of the naive order-split transaction, so every result can be read as a ratio to them.

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use chrono::Utc;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor, PgPool, SqlSafeStr, SqlStr};
use uuid::Uuid;

/// Publishers awaiting their acks in parallel in the second publish measurement.
const PARALLEL_PUBLISHERS: u64 = 4;

/// Acks in flight in the pipelined publish measurement (the ceiling of any batching ingress).
const PIPELINE_WINDOW: usize = 256;

/// Connections running the naive transaction concurrently.
const NAIVE_CONNECTIONS: u32 = 8;

/// Size of a baseline message: "small", like a short command envelope.
const MESSAGE_BYTES: usize = 128;

/// JetStream acked-publish rates.
#[derive(Debug, Clone, Serialize)]
pub struct PublishRates {
    /// Messages published by each measurement.
    pub messages: u64,
    /// Messages/s publishing one at a time, awaiting each ack.
    pub one_at_a_time_per_s: f64,
    /// Messages/s with 4 publishers each awaiting its ack.
    pub four_parallel_per_s: f64,
    /// Messages/s with up to 256 acks in flight (DESIGN reference: 120 000-175 000/s).
    pub pipelined_per_s: f64,
}

/// Naive order-split transaction rate.
#[derive(Debug, Clone, Serialize)]
pub struct NaiveRate {
    /// Transactions committed.
    pub transactions: u64,
    /// Measured duration, seconds.
    pub secs: f64,
    /// Committed transactions per second (= orders per second: one order per transaction).
    pub tx_per_s: f64,
    /// Concurrent connections.
    pub connections: u32,
}

/// Both baselines; a failed one is `None` with its error in `errors`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Baselines {
    /// JetStream rates.
    pub publish: Option<PublishRates>,
    /// PostgreSQL naive transaction rate.
    pub naive: Option<NaiveRate>,
    /// Why a baseline is missing.
    pub errors: Vec<String>,
}

/// A short random lowercase hex tag naming the temporary stream, subjects and schema.
fn random_tag() -> String {
    Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// Runs both baselines one after the other (never concurrently: they would share the 2 cores).
pub async fn measure(nats_url: &str, database_url: &str, messages: u64, secs: u64) -> Baselines {
    let mut out = Baselines::default();
    eprintln!("loadgen: baseline: JetStream acked publish ({messages} messages, 3 ways)…");
    match publish_rates(nats_url, messages).await {
        Ok(r) => out.publish = Some(r),
        Err(e) => out
            .errors
            .push(format!("JetStream publish baseline: {e:#}")),
    }
    eprintln!("loadgen: baseline: naive order-split transaction ({secs} s)…");
    match naive_rate(database_url, Duration::from_secs(secs)).await {
        Ok(r) => out.naive = Some(r),
        Err(e) => out
            .errors
            .push(format!("naive transaction baseline: {e:#}")),
    }
    out
}

/// Publishes to a temporary file-storage stream, one ack at a time then 4 in parallel.
async fn publish_rates(nats_url: &str, messages: u64) -> Result<PublishRates> {
    let client = async_nats::connect(nats_url)
        .await
        .with_context(|| format!("connecting to NATS at {nats_url}"))?;
    let js = jetstream::new(client);
    let tag = random_tag();
    let name = format!("BENCH_{}", tag.to_uppercase());
    let prefix = format!("bench.{tag}");
    js.create_stream(stream::Config {
        name: name.clone(),
        subjects: vec![format!("{prefix}.>")],
        storage: stream::StorageType::File,
        num_replicas: 1,
        // Bounded like every stream of the project (nats-server.conf caps the file store).
        max_bytes: 256 * 1024 * 1024,
        ..Default::default()
    })
    .await
    .with_context(|| format!("creating stream {name}"))?;
    let result = publish_both(&js, &prefix, messages).await;
    // Always delete the stream, even when publishing failed, so no benchmark data lingers.
    let deleted = js.delete_stream(&name).await;
    let rates = result?;
    deleted.with_context(|| format!("deleting stream {name}"))?;
    Ok(rates)
}

/// The two publish measurements, after a short warm-up.
async fn publish_both(
    js: &jetstream::Context,
    prefix: &str,
    messages: u64,
) -> Result<PublishRates> {
    let payload = Bytes::from(vec![b'x'; MESSAGE_BYTES]);
    // Warm-up: first publishes pay for stream file creation and connection set-up.
    publish_sequential(js, &format!("{prefix}.warm"), payload.clone(), 200).await?;

    let t0 = Instant::now();
    publish_sequential(js, &format!("{prefix}.one"), payload.clone(), messages).await?;
    let one = rate(messages, t0.elapsed());

    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for p in 0..PARALLEL_PUBLISHERS {
        // Split `messages` exactly: the first publishers take the remainder.
        let share = messages / PARALLEL_PUBLISHERS + u64::from(p < messages % PARALLEL_PUBLISHERS);
        let (js, subject, payload) = (js.clone(), format!("{prefix}.four.{p}"), payload.clone());
        tasks.spawn(async move { publish_sequential(&js, &subject, payload, share).await });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("publisher task")??;
    }
    let four = rate(messages, t0.elapsed());

    let t0 = Instant::now();
    publish_pipelined(js, &format!("{prefix}.pipe"), payload, messages).await?;
    let pipelined = rate(messages, t0.elapsed());
    Ok(PublishRates {
        messages,
        one_at_a_time_per_s: one,
        four_parallel_per_s: four,
        pipelined_per_s: pipelined,
    })
}

/// Publishes `n` messages keeping up to `PIPELINE_WINDOW` acks outstanding, oldest awaited first.
async fn publish_pipelined(
    js: &jetstream::Context,
    subject: &str,
    payload: Bytes,
    n: u64,
) -> Result<()> {
    let mut in_flight: VecDeque<PublishAckFuture> = VecDeque::with_capacity(PIPELINE_WINDOW);
    for i in 0..n {
        if in_flight.len() == PIPELINE_WINDOW
            && let Some(ack) = in_flight.pop_front()
        {
            ack.await.context("pipelined publish ack")?;
        }
        let ack = js
            .publish(format!("{subject}.{i}"), payload.clone())
            .await
            .with_context(|| format!("pipelined publish {} of {n}", i + 1))?;
        in_flight.push_back(ack);
    }
    for ack in in_flight {
        ack.await.context("pipelined publish ack")?;
    }
    Ok(())
}

/// Publishes `n` messages, awaiting each ack before the next publish.
async fn publish_sequential(
    js: &jetstream::Context,
    subject: &str,
    payload: Bytes,
    n: u64,
) -> Result<()> {
    for i in 0..n {
        js.publish(format!("{subject}.{i}"), payload.clone())
            .await
            .with_context(|| format!("publish {} of {n} on {subject}", i + 1))?
            .await
            .with_context(|| format!("ack of publish {} of {n} on {subject}", i + 1))?;
    }
    Ok(())
}

/// Events per second.
fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// Creates the tables in a temporary schema, runs the transaction from 8 connections for
/// `duration`, and drops the schema.
async fn naive_rate(database_url: &str, duration: Duration) -> Result<NaiveRate> {
    let schema = format!("bench_{}", random_tag());
    let options = PgConnectOptions::from_str(database_url)
        .with_context(|| "parsing --database-url".to_string())?
        .application_name("bluewhale-loadgen-baseline");
    let pool = PgPoolOptions::new()
        .max_connections(NAIVE_CONNECTIONS)
        .min_connections(NAIVE_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .context("connecting to PostgreSQL")?;
    let result = async {
        create_tables(&pool, &schema).await?;
        run_naive(&pool, &schema, duration).await
    }
    .await;
    // Always drop the schema: it must not outlive the run, even a failed one.
    let dropped = pool
        .execute(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .await;
    pool.close().await;
    let rate = result?;
    dropped.with_context(|| format!("dropping schema {schema}"))?;
    Ok(rate)
}

/// DDL of the minimal tables, shaped like the real ones (keys, foreign keys, unique numbers).
fn ddl(schema: &str) -> String {
    format!(
        "CREATE SCHEMA {s};
CREATE TABLE {s}.master_orders (
    id uuid PRIMARY KEY, reference text NOT NULL UNIQUE, station_id uuid NOT NULL,
    status text NOT NULL, order_date date NOT NULL, currency text NOT NULL,
    total_excluding_tax numeric(12,2) NOT NULL, tax_amount numeric(12,2) NOT NULL,
    total_including_tax numeric(12,2) NOT NULL,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE {s}.purchase_orders (
    id uuid PRIMARY KEY, master_order_id uuid NOT NULL REFERENCES {s}.master_orders(id),
    number text NOT NULL UNIQUE, supplier_id uuid NOT NULL, status text NOT NULL,
    total_excluding_tax numeric(12,2) NOT NULL, tax_amount numeric(12,2) NOT NULL,
    total_including_tax numeric(12,2) NOT NULL,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    UNIQUE (master_order_id, supplier_id));
CREATE TABLE {s}.purchase_order_lines (
    id uuid PRIMARY KEY, purchase_order_id uuid NOT NULL REFERENCES {s}.purchase_orders(id),
    line_no integer NOT NULL, product_id uuid NOT NULL, contract_id uuid NOT NULL,
    quantity integer NOT NULL, unit_price numeric(12,2) NOT NULL, tax_rate numeric(5,2) NOT NULL,
    line_total numeric(12,2) NOT NULL, UNIQUE (purchase_order_id, line_no));
CREATE TABLE {s}.audit_log (
    id uuid PRIMARY KEY, occurred_at timestamptz NOT NULL, actor_user_id uuid NOT NULL,
    actor_role text NOT NULL, action text NOT NULL, entity_type text NOT NULL,
    entity_id uuid NOT NULL, changes jsonb NOT NULL, command_id uuid NOT NULL);
CREATE INDEX ON {s}.audit_log (entity_type, entity_id);
CREATE TABLE {s}.commands (
    id uuid PRIMARY KEY, type text NOT NULL, actor jsonb NOT NULL, outcome text NOT NULL,
    error text, processed_at timestamptz NOT NULL);
ANALYZE {s}.master_orders, {s}.purchase_orders, {s}.purchase_order_lines, {s}.audit_log, {s}.commands;",
        s = schema
    )
}

/// Creates the schema and tables, then ANALYZE (fresh tables otherwise get poor FK plans).
async fn create_tables(pool: &PgPool, schema: &str) -> Result<()> {
    // Several statements: the simple-query protocol (no bind parameters) runs them all.
    sqlx::raw_sql(AssertSqlSafe(ddl(schema)))
        .execute(pool)
        .await
        .with_context(|| format!("creating schema {schema}"))?;
    Ok(())
}

/// The five INSERT statements, schema-qualified (never relying on search_path: a wrong path
/// would write into the real tables).
struct Statements {
    master: SqlStr,
    po: SqlStr,
    line: SqlStr,
    audit: SqlStr,
    command: SqlStr,
}

impl Statements {
    fn new(s: &str) -> Self {
        // The schema name is generated by us (`bench_` + hex), so formatting it in is safe.
        let sql = |text: String| AssertSqlSafe(text).into_sql_str();
        Self {
            master: sql(format!(
                "INSERT INTO {s}.master_orders (id, reference, station_id, status, order_date, currency, \
                 total_excluding_tax, tax_amount, total_including_tax, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'REGISTERED', $4, 'EUR', $5, $6, $7, $8, $8)"
            )),
            po: sql(format!(
                "INSERT INTO {s}.purchase_orders (id, master_order_id, number, supplier_id, status, \
                 total_excluding_tax, tax_amount, total_including_tax, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'REGISTERED', $5, $6, $7, $8, $8)"
            )),
            line: sql(format!(
                "INSERT INTO {s}.purchase_order_lines (id, purchase_order_id, line_no, product_id, \
                 contract_id, quantity, unit_price, tax_rate, line_total) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            )),
            audit: sql(format!(
                "INSERT INTO {s}.audit_log (id, occurred_at, actor_user_id, actor_role, action, \
                 entity_type, entity_id, changes, command_id) \
                 VALUES ($1, $2, $3, 'STATION', 'CREATE', $4, $5, $6::jsonb, $7)"
            )),
            command: sql(format!(
                "INSERT INTO {s}.commands (id, type, actor, outcome, error, processed_at) \
                 VALUES ($1, 'order.submit', $2::jsonb, 'OK', NULL, $3)"
            )),
        }
    }
}

/// Runs transactions from `NAIVE_CONNECTIONS` tasks until `duration` has passed.
async fn run_naive(pool: &PgPool, schema: &str, duration: Duration) -> Result<NaiveRate> {
    let statements = Arc::new(Statements::new(schema));
    let numbers = Arc::new(AtomicU64::new(0));
    // One warm-up transaction per connection prepares the statements outside the timing.
    let mut warm = tokio::task::JoinSet::new();
    for _ in 0..NAIVE_CONNECTIONS {
        let (pool, st, n) = (pool.clone(), statements.clone(), numbers.clone());
        warm.spawn(async move { naive_transaction(&pool, &st, &n).await });
    }
    while let Some(j) = warm.join_next().await {
        j.context("warm-up task")??;
    }

    let t0 = Instant::now();
    let deadline = t0 + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..NAIVE_CONNECTIONS {
        let (pool, st, n) = (pool.clone(), statements.clone(), numbers.clone());
        tasks.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                naive_transaction(&pool, &st, &n).await?;
                done += 1;
            }
            anyhow::Ok(done)
        });
    }
    let mut transactions = 0;
    while let Some(j) = tasks.join_next().await {
        transactions += j.context("transaction task")??;
    }
    let elapsed = t0.elapsed();
    if transactions == 0 {
        bail!("no transaction committed");
    }
    Ok(NaiveRate {
        transactions,
        secs: elapsed.as_secs_f64(),
        tx_per_s: rate(transactions, elapsed),
        connections: NAIVE_CONNECTIONS,
    })
}

/// One naive order split: 1 master order, 3 POs, 9 lines, 13 audit rows, 1 command row,
/// one INSERT (one round trip) per row, in one transaction.
async fn naive_transaction(pool: &PgPool, st: &Statements, numbers: &AtomicU64) -> Result<()> {
    let n = numbers.fetch_add(1, Ordering::Relaxed);
    let now = Utc::now();
    let (station, user, command) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::now_v7());
    let price = Decimal::new(1250, 2);
    let qty: i32 = 12;
    let line_total = price * Decimal::from(qty);
    let tax_rate = Decimal::new(2000, 2);
    let po_excl = line_total * Decimal::from(3);
    let po_tax = (po_excl * tax_rate / Decimal::ONE_HUNDRED).round_dp(2);
    let changes = r#"{"status":{"old":null,"new":"REGISTERED"}}"#;

    let mut tx = pool.begin().await.context("begin")?;
    let mo = Uuid::now_v7();
    sqlx::query(st.master.clone())
        .bind(mo)
        .bind(format!("MO-2026-{n:09}"))
        .bind(station)
        .bind(now.date_naive())
        .bind(po_excl * Decimal::from(3))
        .bind(po_tax * Decimal::from(3))
        .bind((po_excl + po_tax) * Decimal::from(3))
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("insert master order")?;
    let mut audited = vec![("master_order", mo)];
    for s in 0..3u128 {
        let po = Uuid::now_v7();
        sqlx::query(st.po.clone())
            .bind(po)
            .bind(mo)
            .bind(format!("PO-2026-{n:09}-{s}"))
            .bind(Uuid::from_u128(100 + s))
            .bind(po_excl)
            .bind(po_tax)
            .bind(po_excl + po_tax)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("insert purchase order")?;
        audited.push(("purchase_order", po));
        for l in 0..3i32 {
            let line = Uuid::now_v7();
            sqlx::query(st.line.clone())
                .bind(line)
                .bind(po)
                .bind(l + 1)
                .bind(Uuid::from_u128(1000 + s * 10 + l as u128))
                .bind(Uuid::from_u128(500 + s))
                .bind(qty)
                .bind(price)
                .bind(tax_rate)
                .bind(line_total)
                .execute(&mut *tx)
                .await
                .context("insert purchase order line")?;
            audited.push(("purchase_order_line", line));
        }
    }
    for (entity_type, entity_id) in audited {
        sqlx::query(st.audit.clone())
            .bind(Uuid::now_v7())
            .bind(now)
            .bind(user)
            .bind(entity_type)
            .bind(entity_id)
            .bind(changes)
            .bind(command)
            .execute(&mut *tx)
            .await
            .context("insert audit row")?;
    }
    sqlx::query(st.command.clone())
        .bind(command)
        .bind(r#"{"user_id":"00000000-0000-0000-0000-000000000002","role":"STATION"}"#)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("insert command row")?;
    tx.commit().await.context("commit")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_safe_identifiers() {
        let t = random_tag();
        assert_eq!(t.len(), 12);
        assert!(
            t.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn ddl_creates_the_five_tables_in_the_schema_and_analyzes() {
        let d = ddl("bench_x");
        for t in [
            "master_orders",
            "purchase_orders",
            "purchase_order_lines",
            "audit_log",
            "commands",
        ] {
            assert!(d.contains(&format!("CREATE TABLE bench_x.{t} (")), "{t}");
        }
        assert!(d.contains("ANALYZE bench_x.master_orders"));
    }

    #[test]
    fn rate_is_per_second() {
        assert_eq!(rate(500, Duration::from_millis(250)), 2000.0);
    }
}
