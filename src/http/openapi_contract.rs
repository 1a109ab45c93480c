//! What every operation of the OpenAPI document shares, added once rather than in each
//! annotation: errors as `application/problem+json` with the Problem schema, the statuses any
//! operation can answer, and the write path's headers on the command endpoints.

use utoipa::Modify;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, Type,
};

/// The media type of every error answer.
const PROBLEM: &str = "application/problem+json";

/// Adds the shared error responses and write headers to every operation.
pub struct SharedContract;

impl Modify for SharedContract {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                problems_as_problem_json(operation);
                add_shared_statuses(operation, has_path_params);
                if operation.responses.responses.contains_key("202") {
                    add_write_headers(operation);
                }
            }
        }
    }
}

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// Error answers declared as JSON are served as problem+json.
fn problems_as_problem_json(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if status.as_str() >= "400"
            && let Some(content) = response.content.shift_remove("application/json")
        {
            response.content.insert(PROBLEM.to_owned(), content);
        }
    }
}

/// Statuses any operation of its kind can answer, whether or not its annotation says so.
fn add_shared_statuses(operation: &mut Operation, has_path_params: bool) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let with_body = operation.request_body.is_some();
    let with_params =
        has_path_params || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut shared: Vec<(&str, &str)> = vec![
        ("500", "Internal error"),
        (
            "503",
            "A dependency (PostgreSQL, NATS) is unavailable; retry after Retry-After",
        ),
    ];
    if secured {
        shared.push(("401", "Missing, invalid or revoked access token"));
    }
    if with_body {
        shared.push(("413", "Body over the limit"));
        shared.push(("415", "Body not JSON"));
    }
    if with_body || with_params {
        shared.push(("422", "A field or parameter is invalid; errors name each"));
    }
    if has_path_params && secured {
        shared.push(("404", "No such resource, or not visible to the caller"));
    }
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    }
}

/// The command endpoints' headers: `Idempotency-Key` (required), `Prefer: wait=N`,
/// `If-Match`, and the `Location` of their 202.
fn add_write_headers(operation: &mut Operation) {
    let string = |pattern: &str, max: usize| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(max))
            .pattern(Some(pattern))
            .build()
    };
    let headers = [
        (
            "Idempotency-Key",
            Required::True,
            "Same key and body: same command and answer; other body: 409",
            string("^[!-~]+$", 255),
        ),
        (
            "Prefer",
            Required::False,
            "`wait=N` (N ≤ 30): answer the outcome if it arrives within N seconds",
            string("^wait=[0-9]{1,2}$", 7),
        ),
        (
            "If-Match",
            Required::False,
            "`\"<version>\"`: refused with 412 when the resource moved on",
            string("^\"[0-9]+\"$", 12),
        ),
    ];
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    for (name, required, description, schema) in headers {
        let declared = parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case(name)));
        if declared {
            continue;
        }
        parameters.push(RefOr::T(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(required)
                .description(Some(description))
                .schema(Some(schema))
                .build(),
        ));
    }
    for status in ["409", "412"] {
        let description = match status {
            "409" => {
                "Refused: a conflicting state, or the idempotency key reused with another body"
            }
            _ => "If-Match is stale",
        };
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    }
    if let Some(RefOr::T(accepted)) = operation.responses.responses.get_mut("202") {
        accepted
            .headers
            .insert("Location".to_owned(), RefOr::T(Header::default()));
    }
}
