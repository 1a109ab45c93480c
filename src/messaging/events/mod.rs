//! Events written to the outbox and published on the EVENTS stream, typed like commands: each
//! payload type declares its type name, version and routing token, and [`DomainEvent::decode`]
//! reads any of them back from one place.

pub mod audit;
pub mod contracts;
pub mod orders;
pub mod purchase_orders;
pub mod sales_orders;
pub mod webhook_endpoints;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::Namespace;
use super::correlation::Correlation;
use crate::domain::roles::Scope;

pub use audit::{AuditRecord, AuditRecorded, ClientInfo};
pub use contracts::{ContractChanged, ContractEventKind};
pub use orders::{OrderProcessed, OrderStatusChanged};
pub use purchase_orders::{PurchaseOrderChanged, PurchaseOrderCreated};
pub use sales_orders::SalesOrderInvoiced;
pub use webhook_endpoints::{WebhookEndpointDisabled, WebhookTest};

use crate::domain::purchase_order_status::PurchaseOrderStatus;

/// The event types a supplier's endpoint may subscribe to (`webhook.test` is delivered on
/// request whatever the subscription).
pub fn supplier_event_types() -> Vec<&'static str> {
    let mut types = vec![purchase_orders::PURCHASE_ORDER_CREATED];
    types.extend(
        PurchaseOrderStatus::ALL
            .into_iter()
            .filter(|s| *s != PurchaseOrderStatus::Registered)
            .map(purchase_orders::status_event_type),
    );
    types.push(webhook_endpoints::WEBHOOK_ENDPOINT_DISABLED);
    types.extend(ContractEventKind::ALL.map(ContractEventKind::event_type));
    types
}

/// Whether `scope` is staff's or the supplier's own: the audience of supplier-only events.
fn staff_or_supplier(scope: Scope, supplier_id: Uuid) -> bool {
    match scope {
        Scope::All => true,
        Scope::Supplier(own) => own == supplier_id,
        Scope::Station(_) | Scope::Nothing => false,
    }
}

/// An event payload type.
pub trait EventSpec: Serialize + DeserializeOwned {
    /// Schema version of the payload.
    const VERSION: u32;

    /// Event type, e.g. `order.priced`; some payload types carry several (one per status).
    fn kind(&self) -> &'static str;

    /// The subject's topic, `bw.evt.<topic>.<routing>`: the type unless a family of types
    /// shares one (all audit events are on `bw.evt.audit.<entity_type>`).
    fn topic(&self) -> &'static str {
        self.kind()
    }

    /// Last subject token: the organisation it concerns (station or supplier id), or the
    /// entity type for audit events; subscribers filter on it.
    fn routing(&self) -> String;
}

/// An event as published: `{id, type, version, occurred_at, command_id, data}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// Event id, also the `Nats-Msg-Id`.
    pub id: Uuid,
    /// Event type, e.g. `order.priced`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Schema version of `data`.
    pub version: u32,
    /// When the change committed.
    pub occurred_at: DateTime<Utc>,
    /// The command that caused it.
    pub command_id: Option<Uuid>,
    /// The payload, serialised once.
    pub data: Box<RawValue>,
}

/// An outbox row's event about to be written: the subject, the event, and the trace and
/// request it belongs to (published as headers).
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// Full subject (namespace included).
    pub subject: String,
    /// The event.
    pub event: Event,
    /// Set by the runner from the command that caused it.
    pub correlation: Correlation,
}

impl OutboxEvent {
    /// The event of a typed payload, on `bw.evt.<type>.<routing>`.
    pub fn new<E: EventSpec>(
        ns: &Namespace,
        id: Uuid,
        occurred_at: DateTime<Utc>,
        command_id: Option<Uuid>,
        payload: &E,
    ) -> Result<Self, serde_json::Error> {
        let kind = payload.kind();
        Ok(Self {
            subject: ns.event(payload.topic(), payload.routing()),
            event: Event {
                id,
                kind: kind.to_owned(),
                version: E::VERSION,
                occurred_at,
                command_id,
                data: serde_json::value::to_raw_value(payload)?,
            },
            correlation: Correlation::default(),
        })
    }
}

/// Any event this system publishes, decoded.
#[derive(Debug, Clone)]
pub enum DomainEvent {
    /// `order.priced` or `order.rejected`.
    OrderProcessed(OrderProcessed),
    /// `order.status_changed`.
    OrderStatusChanged(OrderStatusChanged),
    /// `purchase_order.created`.
    PurchaseOrderCreated(Box<PurchaseOrderCreated>),
    /// `purchase_order.<status>`.
    PurchaseOrderChanged(Box<PurchaseOrderChanged>),
    /// `audit.recorded`.
    AuditRecorded(Box<AuditRecorded>),
    /// `webhook.test`.
    WebhookTest(WebhookTest),
    /// `webhook_endpoint.disabled`.
    WebhookEndpointDisabled(WebhookEndpointDisabled),
    /// `contract.<activated|suspended|resumed|terminated|expired>`.
    ContractChanged(Box<ContractChanged>),
    /// `sales_order.invoiced`.
    SalesOrderInvoiced(Box<SalesOrderInvoiced>),
}

/// An event that is not one of ours, or whose data does not match its type.
#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    /// Not an event envelope.
    #[error("not an event: {0}")]
    Envelope(serde_json::Error),
    /// A type or version this build does not know.
    #[error("unknown event type {kind:?} version {version}")]
    Unknown {
        /// Type.
        kind: String,
        /// Version.
        version: u32,
    },
    /// The data does not match the type.
    #[error("invalid {kind} data: {source}")]
    Data {
        /// Type.
        kind: String,
        /// Why.
        source: serde_json::Error,
    },
}

impl DomainEvent {
    /// Whether a user with this scope may see the event, exactly as the REST reads scope the
    /// resources it is about: a station its master orders and their purchase orders, a
    /// supplier its purchase orders, staff everything. Audit events are for audit consumers,
    /// not users' streams.
    pub fn visible_to(&self, scope: Scope) -> bool {
        let (station, supplier) = match self {
            DomainEvent::OrderProcessed(e) => (e.station_id, None),
            DomainEvent::OrderStatusChanged(e) => (e.station_id, None),
            DomainEvent::SalesOrderInvoiced(e) => (e.station_id, None),
            DomainEvent::PurchaseOrderCreated(e) => (
                e.purchase_order.station_id,
                Some(e.purchase_order.supplier_id),
            ),
            DomainEvent::PurchaseOrderChanged(e) => (
                e.purchase_order.station_id,
                Some(e.purchase_order.supplier_id),
            ),
            DomainEvent::AuditRecorded(_) => return false,
            DomainEvent::WebhookTest(WebhookTest { supplier_id, .. })
            | DomainEvent::WebhookEndpointDisabled(WebhookEndpointDisabled {
                supplier_id, ..
            }) => return staff_or_supplier(scope, *supplier_id),
            DomainEvent::ContractChanged(changed) => {
                return staff_or_supplier(scope, changed.supplier_id);
            }
        };
        match scope {
            Scope::All => true,
            Scope::Station(own) => own == station,
            Scope::Supplier(own) => Some(own) == supplier,
            Scope::Nothing => false,
        }
    }

    /// Decodes a published event message.
    pub fn decode_message(payload: &[u8]) -> Result<(Event, Self), EventDecodeError> {
        let event: Event = serde_json::from_slice(payload).map_err(EventDecodeError::Envelope)?;
        let decoded = Self::decode(&event)?;
        Ok((event, decoded))
    }

    /// Decodes the data of an event by its type and version.
    pub fn decode(event: &Event) -> Result<Self, EventDecodeError> {
        fn data<T: DeserializeOwned>(event: &Event) -> Result<T, EventDecodeError> {
            serde_json::from_str(event.data.get()).map_err(|source| EventDecodeError::Data {
                kind: event.kind.clone(),
                source,
            })
        }
        let kind = event.kind.as_str();
        match (kind, event.version) {
            (orders::ORDER_PRICED | orders::ORDER_REJECTED, OrderProcessed::VERSION) => {
                data(event).map(Self::OrderProcessed)
            }
            (orders::ORDER_STATUS_CHANGED, OrderStatusChanged::VERSION) => {
                data(event).map(Self::OrderStatusChanged)
            }
            (purchase_orders::PURCHASE_ORDER_CREATED, PurchaseOrderCreated::VERSION) => {
                data(event).map(|e| Self::PurchaseOrderCreated(Box::new(e)))
            }
            (k, PurchaseOrderChanged::VERSION) if purchase_orders::is_status_event(k) => {
                data(event).map(|e| Self::PurchaseOrderChanged(Box::new(e)))
            }
            (audit::AUDIT_RECORDED, AuditRecorded::VERSION) => {
                data(event).map(|e| Self::AuditRecorded(Box::new(e)))
            }
            (webhook_endpoints::WEBHOOK_TEST, WebhookTest::VERSION) => {
                data(event).map(Self::WebhookTest)
            }
            (webhook_endpoints::WEBHOOK_ENDPOINT_DISABLED, WebhookEndpointDisabled::VERSION) => {
                data(event).map(Self::WebhookEndpointDisabled)
            }
            (k, ContractChanged::VERSION) if ContractEventKind::of_type(k).is_some() => {
                data(event).map(|e| Self::ContractChanged(Box::new(e)))
            }
            (sales_orders::SALES_ORDER_INVOICED, SalesOrderInvoiced::VERSION) => {
                data(event).map(|e| Self::SalesOrderInvoiced(Box::new(e)))
            }
            _ => Err(EventDecodeError::Unknown {
                kind: event.kind.clone(),
                version: event.version,
            }),
        }
    }
}
