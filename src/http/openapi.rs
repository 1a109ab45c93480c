//! The OpenAPI document (`/openapi.json`) and interactive docs (`/docs`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::openapi_contract::SharedContract;

use super::{
    audit_trail, auth, carts, catalogue, commands, contract_writes, contracts, event_stream,
    health, me, ops_dead_letters, ops_overview, orders, passwords, personal_data, product_writes,
    purchase_order_transitions, purchase_orders, sales_orders, station_writes, supplier_writes,
    user_writes, webhook_deliveries, webhook_endpoints,
};

/// The API description, generated from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Blue Whale order pipeline", version = "1.0.0",
         description = "Packing stations order packaging from suppliers under master contracts."),
    paths(
        health::health, health::ready,
        auth::login, auth::refresh, auth::logout, me::me,
        passwords::reset, passwords::change,
        catalogue::list_stations, catalogue::list_suppliers, catalogue::list_products,
        catalogue::list_station_groups, catalogue::list_users,
        product_writes::create, product_writes::update, product_writes::get,
        supplier_writes::create, supplier_writes::update, supplier_writes::get,
        station_writes::groups::create, station_writes::groups::update, station_writes::groups::get,
        station_writes::stations::create, station_writes::stations::update,
        station_writes::stations::get,
        user_writes::create, user_writes::update, user_writes::get, user_writes::reset_password,
        contracts::list, contracts::get, contracts::history,
        contract_writes::create, contract_writes::update, contract_writes::replace_lines,
        contract_writes::activate, contract_writes::suspend, contract_writes::resume,
        contract_writes::terminate, contract_writes::renew,
        carts::get, carts::put_item, carts::delete_item, carts::empty, carts::checkout,
        orders::submit, orders::get, orders::list,
        purchase_orders::list, purchase_orders::get, purchase_orders::history,
        purchase_order_transitions::confirm, purchase_order_transitions::ship,
        purchase_order_transitions::receive, purchase_order_transitions::close,
        purchase_order_transitions::cancel, purchase_order_transitions::invoice,
        purchase_order_transitions::archive,
        sales_orders::list, sales_orders::get, sales_orders::invoice,
        commands::get, event_stream::stream,
        audit_trail::list, audit_trail::order_trail, audit_trail::purchase_order_trail,
        personal_data::mine, personal_data::of_user, personal_data::erase,
        webhook_endpoints::create, webhook_endpoints::list, webhook_endpoints::get,
        webhook_endpoints::update, webhook_endpoints::delete, webhook_endpoints::secret,
        webhook_endpoints::rotate_secret, webhook_deliveries::test, webhook_deliveries::messages,
        webhook_deliveries::attempts, webhook_deliveries::resend, webhook_deliveries::recover,
        webhook_deliveries::email_messages, webhook_deliveries::email_attempts,
        ops_overview::overview, ops_dead_letters::list, ops_dead_letters::get, ops_dead_letters::replay,
        ops_dead_letters::discard, ops_dead_letters::replay_matching,
        ops_dead_letters::discard_matching,
    ),
    modifiers(&BearerAuth, &SharedContract),
    tags((name = "auth"), (name = "catalogue"), (name = "users"), (name = "contracts"), (name = "carts"), (name = "orders"),
        (name = "purchase orders"), (name = "sales orders"), (name = "commands"), (name = "events"), (name = "audit"), (name = "webhooks"), (name = "ops"), (name = "health"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
