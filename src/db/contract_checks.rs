//! Every refusal a contract change can meet, decided once for both sides: the ingress asks on
//! the current data (and publishes nothing when refused), the worker asks again under its
//! locks and writes only what passes.

use uuid::Uuid;

use super::contract_writes::{self, ContractRecord};
use crate::domain::contract_lifecycle::{ContractRequester, check_action};
use crate::domain::contract_overlap::{Overlap, overlaps};
use crate::domain::contract_terms::{
    ContractHeader, ContractLineTerms, header_issues, line_issues, number_issues, reference_issues,
};
use crate::domain::refusal::{FieldIssue, Refusal, RefusalCode};
use crate::domain::text::text_issues;
use crate::messaging::commands::ChangeContract;
use crate::messaging::commands::contract::ContractChange;

/// Longest reason of a suspension or termination.
pub const MAX_REASON_CHARS: usize = 500;

/// The contracts a change is judged on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Judged<'a> {
    /// The contract changed (none yet for a creation or renewal).
    pub stored: Option<&'a ContractRecord>,
    /// The contract a renewal copies.
    pub source: Option<&'a ContractRecord>,
}

/// Why `command` may not be applied by `requester` to the contracts as they are, if it may
/// not. An activation reads the supplier's contracts in force (the worker locks the supplier
/// first).
pub async fn refusal_of(
    conn: &mut sqlx::PgConnection,
    command: &ChangeContract,
    requester: ContractRequester,
    judged: Judged<'_>,
) -> sqlx::Result<Option<Refusal>> {
    let change = &command.change;
    if let ContractChange::Renew { .. } = change
        && judged.stored.is_some()
    {
        return Ok(Some(Refusal::new(
            RefusalCode::InvalidTransition,
            "This contract exists already.",
        )));
    }
    let subject = match change {
        ContractChange::Renew { .. } => judged.source,
        _ => judged.stored,
    };
    if let Err(refusal) = check_action(
        subject.map(ContractRecord::state),
        change.action(),
        requester,
    ) {
        return Ok(Some(refusal));
    }
    match (change, subject) {
        (
            ContractChange::Create {
                number,
                header,
                lines,
            },
            _,
        ) => {
            let mut issues = header_issues(header);
            if let Some(number) = number {
                issues.extend(number_issues(number));
            }
            issues.extend(terms_issues(conn, header, lines).await?);
            if !issues.is_empty() {
                return Ok(Some(Refusal::invalid(issues)));
            }
            match number {
                Some(number) => number_refusal(conn, number, command.contract_id).await,
                None => Ok(None),
            }
        }
        (
            ContractChange::Renew {
                valid_from,
                valid_until,
                ..
            },
            Some(source),
        ) => {
            let issues = header_issues(&renewed_header(source, *valid_from, *valid_until));
            Ok((!issues.is_empty()).then(|| Refusal::invalid(issues)))
        }
        (ContractChange::Update { patch }, Some(stored)) => {
            let header = patch.applied_to(&stored.header);
            let mut issues = header_issues(&header);
            if let Some(number) = &patch.number {
                issues.extend(number_issues(number));
            }
            if patch.supplier_id.is_some() {
                let known =
                    contract_writes::known_references(conn, header.supplier_id, &[]).await?;
                issues.extend(reference_issues(&known, None));
            }
            if !issues.is_empty() {
                return Ok(Some(Refusal::invalid(issues)));
            }
            match &patch.number {
                Some(number) => number_refusal(conn, number, stored.id).await,
                None => Ok(None),
            }
        }
        (ContractChange::ReplaceLines { lines }, Some(stored)) => {
            let issues = terms_issues(conn, &stored.header, lines).await?;
            Ok((!issues.is_empty()).then(|| Refusal::invalid(issues)))
        }
        (ContractChange::Activate, Some(stored)) => {
            let in_force = contract_writes::in_force(conn, stored.header.supplier_id).await?;
            let spans: Vec<_> = in_force.iter().map(ContractRecord::span).collect();
            let found = overlaps(&stored.span(), &spans);
            if found.is_empty() {
                return Ok(None);
            }
            Ok(Some(overlap_refusal(conn, stored, &found).await?))
        }
        (ContractChange::Suspend { reason } | ContractChange::Terminate { reason }, _) => {
            Ok(reason_refusal(reason))
        }
        _ => Ok(None),
    }
}

/// The header of a renewal of `source` over new dates.
pub fn renewed_header(
    source: &ContractRecord,
    valid_from: chrono::NaiveDate,
    valid_until: chrono::NaiveDate,
) -> ContractHeader {
    ContractHeader {
        valid_from,
        valid_until,
        ..source.header.clone()
    }
}

/// Lines in product order, as they are read back.
pub fn sorted(lines: &[ContractLineTerms]) -> Vec<ContractLineTerms> {
    let mut lines = lines.to_vec();
    lines.sort_by_key(|l| l.product_id);
    lines
}

fn reason_refusal(reason: &str) -> Option<Refusal> {
    let mut issues = text_issues(reason, "reason", MAX_REASON_CHARS);
    if reason.trim().is_empty() {
        issues.push(FieldIssue::new("reason", "REQUIRED", "give a reason"));
    }
    (!issues.is_empty()).then(|| Refusal::invalid(issues))
}

/// Lines that break the rules or name unknown or inactive products, or a supplier that is.
async fn terms_issues(
    conn: &mut sqlx::PgConnection,
    header: &ContractHeader,
    lines: &[ContractLineTerms],
) -> sqlx::Result<Vec<FieldIssue>> {
    let mut issues = line_issues(lines);
    let products: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let known = contract_writes::known_references(conn, header.supplier_id, &products).await?;
    issues.extend(reference_issues(&known, Some(lines)));
    Ok(issues)
}

/// A number another contract has.
async fn number_refusal(
    conn: &mut sqlx::PgConnection,
    number: &str,
    id: Uuid,
) -> sqlx::Result<Option<Refusal>> {
    if !contract_writes::number_taken(conn, number, id).await? {
        return Ok(None);
    }
    let mut refusal = Refusal::new(
        RefusalCode::ContractNumberTaken,
        format!("Another contract is numbered {number}."),
    );
    refusal.errors.push(FieldIssue::new(
        "number",
        "TAKEN",
        "another contract has this number",
    ));
    Ok(Some(refusal))
}

/// `CONTRACT_OVERLAP`, naming each conflicting contract and the products both price.
async fn overlap_refusal(
    conn: &mut sqlx::PgConnection,
    record: &ContractRecord,
    found: &[Overlap],
) -> sqlx::Result<Refusal> {
    let products: Vec<Uuid> = found
        .iter()
        .flat_map(|o| o.product_ids.iter().copied())
        .collect();
    let codes = contract_writes::product_codes(conn, &products).await?;
    let code_of = |id: &Uuid| codes.get(id).cloned().unwrap_or_else(|| id.to_string());
    let described: Vec<String> = found
        .iter()
        .map(|o| {
            let names: Vec<String> = o.product_ids.iter().map(code_of).collect();
            format!("{} ({})", o.number, names.join(", "))
        })
        .collect();
    let mut refusal = Refusal::new(
        RefusalCode::ContractOverlap,
        format!(
            "Contract {} overlaps contracts in force of the same supplier: {}.",
            record.number,
            described.join("; ")
        ),
    );
    for overlap in found {
        for product in &overlap.product_ids {
            let index = record
                .lines
                .iter()
                .position(|l| l.product_id == *product)
                .unwrap_or_default();
            refusal.errors.push(FieldIssue::new(
                format!("lines[{index}].product_id"),
                "CONTRACT_OVERLAP",
                format!(
                    "{} is priced by {} over some of the same days",
                    code_of(product),
                    overlap.number
                ),
            ));
        }
    }
    Ok(refusal)
}
