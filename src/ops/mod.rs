//! What operators see of every process: Prometheus metrics, and `/metrics`, `/health` and
//! `/ready` on an ops address of the process's own.

pub mod consumer_rates;
pub mod heartbeat;
pub mod metrics;
pub mod queues;
pub mod samplers;
pub mod server;

use std::net::SocketAddr;

use crate::bootstrap::Infrastructure;
use crate::config::Config;

pub use samplers::Role;

impl Role {
    /// Its ops address when BW_OPS_ADDR is unset: loopback, one port per role, so one of each
    /// runs on a machine without settings (run more by giving each its own BW_OPS_ADDR).
    pub fn default_ops_addr(self) -> SocketAddr {
        let port = match self {
            Role::Ingress => 9464,
            Role::Worker => 9465,
            Role::Notifier => 9466,
        };
        SocketAddr::from(([127, 0, 0, 1], port))
    }
}

/// A process's ops server and gauges; dropping it stops both.
pub struct Ops {
    /// The server (its address is `server.addr`).
    pub server: server::OpsServer,
    _sampler: samplers::Sampler,
}

/// Installs the metrics recorder, starts the ops server on BW_OPS_ADDR (or the role's
/// default) and the gauges of this role.
pub async fn start(role: Role, config: &Config, infra: &Infrastructure) -> anyhow::Result<Ops> {
    let handle = metrics::install();
    let addr = config.ops_addr.unwrap_or_else(|| role.default_ops_addr());
    let probe = server::Probe {
        db: infra.db.clone(),
        js: infra.js.clone(),
    };
    let server = server::start(role.as_str(), addr, probe, handle).await?;
    let sampler = samplers::start(
        role,
        samplers::Sources {
            db: infra.db.clone(),
            nats: infra.nats.clone(),
            js: infra.js.clone(),
            ns: infra.ns.clone(),
            max_connections: config.database.max_connections,
            heartbeat: heartbeat::of_this_process(role, server.addr),
        },
    );
    Ok(Ops {
        server,
        _sampler: sampler,
    })
}
