//! Which table each kind of master data lives in, and what each stores beside its row: a
//! supplier's sites; a user's one-time password tokens and, on deactivation, the revocation of
//! their refresh tokens (same transaction).

use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::master_records::{MasterTable, RelatedAudit, RelatedWrite, exists};
use super::{password_tokens, refresh_tokens};
use crate::domain::audit::AuditAction;
use crate::domain::product_terms::Product;
use crate::domain::refusal::{FieldIssue, Refusal};
use crate::domain::roles::OrgType;
use crate::domain::station_terms::{Station, StationFields, StationGroup};
use crate::domain::supplier_terms::{Supplier, SupplierFields};
use crate::domain::user_account_protection::{AccountChange, account_change_refusal};
use crate::domain::user_terms::{User, UserFields};

impl MasterTable for Product {
    const TABLE: &'static str = "products";
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "description",
        "category",
        "conditioning_unit",
        "quantity_per_conditioning",
        "active",
    ];
}

impl MasterTable for StationGroup {
    const TABLE: &'static str = "station_groups";
    const COLUMNS: &'static [&'static str] = &["code", "name"];
}

impl MasterTable for Station {
    const TABLE: &'static str = "stations";
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "group_id",
        "platform_id",
        "address",
        "postal_code",
        "city",
        "country",
        "active",
    ];

    async fn reference_issues(
        conn: &mut PgConnection,
        fields: &StationFields,
    ) -> sqlx::Result<Vec<FieldIssue>> {
        let mut issues = Vec::new();
        for (field, table, id) in [
            ("group_id", "station_groups", fields.group_id),
            ("platform_id", "platforms", fields.platform_id),
        ] {
            if let Some(id) = id
                && !exists(conn, table, id).await?
            {
                issues.push(FieldIssue::new(
                    field,
                    "UNKNOWN",
                    format!("no such {field}"),
                ));
            }
        }
        Ok(issues)
    }
}

impl MasterTable for Supplier {
    const TABLE: &'static str = "suppliers";
    const COLUMNS: &'static [&'static str] =
        &["code", "name", "siret", "order_contact_email", "active"];

    fn row_json(fields: &SupplierFields) -> serde_json::Result<Value> {
        let mut row = serde_json::to_value(fields)?;
        if let Value::Object(object) = &mut row {
            object.remove("sites");
        }
        Ok(row)
    }

    async fn load_related(
        conn: &mut PgConnection,
        id: Uuid,
        object: &mut Map<String, Value>,
    ) -> sqlx::Result<()> {
        let sites: Value = sqlx::query_scalar(
            "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'name', name, \
               'address', address, 'postal_code', postal_code, 'city', city, \
               'country', country, 'is_primary', is_primary) ORDER BY id), '[]'::jsonb) \
             FROM supplier_sites WHERE supplier_id = $1",
        )
        .bind(id)
        .fetch_one(conn)
        .await?;
        object.insert("sites".to_owned(), sites);
        Ok(())
    }

    async fn write_related(
        conn: &mut PgConnection,
        write: RelatedWrite<'_, Self>,
    ) -> sqlx::Result<RelatedAudit> {
        if write
            .before
            .is_some_and(|before| before.sites == write.after.sites)
        {
            return Ok(RelatedAudit::default());
        }
        let ids: Vec<Uuid> = write.after.sites.iter().filter_map(|s| s.id).collect();
        // Primary flags first, so moving it between two sites never holds two at once.
        sqlx::query("DELETE FROM supplier_sites WHERE supplier_id = $1 AND NOT (id = ANY($2))")
            .bind(write.id)
            .bind(&ids)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE supplier_sites SET is_primary = false WHERE supplier_id = $1 AND is_primary",
        )
        .bind(write.id)
        .execute(&mut *conn)
        .await?;
        let sites = serde_json::to_value(&write.after.sites)
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO supplier_sites (id, supplier_id, name, address, postal_code, city, \
               country, is_primary, created_at, updated_at) \
             SELECT id, $1, name, address, postal_code, city, country, is_primary, $3, $3 \
             FROM jsonb_populate_recordset(NULL::supplier_sites, $2) \
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, address = EXCLUDED.address, \
               postal_code = EXCLUDED.postal_code, city = EXCLUDED.city, \
               country = EXCLUDED.country, is_primary = EXCLUDED.is_primary, updated_at = $3 \
             WHERE supplier_sites.supplier_id = $1",
        )
        .bind(write.id)
        .bind(sites)
        .bind(write.now)
        .execute(conn)
        .await?;
        Ok(RelatedAudit::default())
    }
}

impl MasterTable for User {
    const TABLE: &'static str = "users";
    const COLUMNS: &'static [&'static str] =
        &["email", "full_name", "role", "org_type", "org_id", "active"];
    const DERIVED: &'static [&'static str] = &["org_type"];
    const HIDDEN: &'static [&'static str] = &["password_hash", "erased_at"];
    const PERSONAL: &'static [&'static str] = &["email", "full_name"];

    fn row_json(fields: &UserFields) -> serde_json::Result<Value> {
        let mut row = serde_json::to_value(fields)?;
        if let Value::Object(object) = &mut row {
            object.insert("org_type".to_owned(), fields.org_type().as_str().into());
        }
        Ok(row)
    }

    async fn reference_issues(
        conn: &mut PgConnection,
        fields: &UserFields,
    ) -> sqlx::Result<Vec<FieldIssue>> {
        let table = match fields.org_type() {
            OrgType::Station => "stations",
            OrgType::Supplier => "suppliers",
            OrgType::Bluewhale => return Ok(Vec::new()),
        };
        match fields.org_id {
            Some(id) if !exists(conn, table, id).await? => Ok(vec![FieldIssue::new(
                "org_id",
                "UNKNOWN",
                format!("no such {}", fields.org_type().as_str().to_lowercase()),
            )]),
            _ => Ok(Vec::new()),
        }
    }

    async fn change_refusal(
        conn: &mut PgConnection,
        actor: Uuid,
        id: Uuid,
        (before, after): (&UserFields, &UserFields),
    ) -> sqlx::Result<Option<Refusal>> {
        let erased = super::personal_data::is_erased(conn, id).await?;
        let change = AccountChange::Patch { before, after };
        Ok(account_change_refusal(actor, id, erased, change))
    }

    async fn write_related(
        conn: &mut PgConnection,
        write: RelatedWrite<'_, Self>,
    ) -> sqlx::Result<RelatedAudit> {
        let mut reasons = Vec::new();
        let mut action = None;
        if write.before.is_some_and(|b| b.active) && !write.after.active {
            refresh_tokens::revoke_user(&mut *conn, write.id, write.now).await?;
            reasons.push("deactivated: every session ended");
            action = Some(AuditAction::UserDeactivated);
        }
        if let Some(grant) = &write.extra.password_reset {
            password_tokens::issue(&mut *conn, write.id, grant, write.command_id, write.now)
                .await?;
            reasons.push("one-time password token issued");
        }
        Ok(RelatedAudit {
            reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
            action,
        })
    }
}
