//! What every operation of the OpenAPI document shares, added once rather than in each
//! annotation: errors as `application/problem+json` with the Problem schema, the statuses any
//! operation can answer, the write path's headers on the command endpoints, and the rule of
//! every free-text value (no control characters but line breaks and tabs).

use utoipa::Modify;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, Schema, SchemaType};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, Type,
};

/// The media type of every error answer.
const PROBLEM: &str = "application/problem+json";

/// `domain::text::has_control_characters` as a pattern: Unicode's Cc characters except tab,
/// line feed and carriage return are refused in every free-text field.
pub const FREE_TEXT_PATTERN: &str = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$";
/// The same for a required free-text field, which must hold more than white space (the
/// server trims it and answers REQUIRED when nothing is left).
pub const REQUIRED_TEXT_PATTERN: &str = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$";

/// Adds the shared error responses and write headers to every operation.
pub struct SharedContract;

impl Modify for SharedContract {
    fn modify(&self, openapi: &mut OpenApi) {
        let mut request_schemas = Vec::new();
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
                // Header values are bytes, not text: Prefer and If-Match take any.
                for parameter in operation.parameters.iter_mut().flatten() {
                    if let RefOr::T(parameter) = parameter
                        && parameter.parameter_in != ParameterIn::Header
                        && let Some(RefOr::T(schema)) = parameter.schema.as_mut()
                    {
                        free_text_without_control_characters(schema, false);
                    }
                }
                if let Some(RefOr::T(body)) = operation.request_body.as_ref() {
                    for content in body.content.values() {
                        if let RefOr::T(content) = content
                            && let Some(RefOr::Ref(reference)) = &content.schema
                        {
                            request_schemas.push(reference.ref_location.clone());
                        }
                    }
                }
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            for (name, schema) in components.schemas.iter_mut() {
                let location = format!("#/components/schemas/{name}");
                if let RefOr::T(schema) = schema {
                    let request = request_schemas.contains(&location);
                    free_text_without_control_characters(schema, request);
                }
            }
        }
    }
}

/// A string without a format, a pattern or an enumeration.
fn is_free_text(object: &utoipa::openapi::schema::Object) -> bool {
    let is_string = match &object.schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(types) => types.contains(&Type::String),
        SchemaType::AnyValue => false,
    };
    is_string && object.format.is_none() && object.pattern.is_none() && object.enum_values.is_none()
}

/// Gives every string without a format, pattern or enumeration (free text) the
/// [`FREE_TEXT_PATTERN`], through objects, arrays and compositions; in a `request` body, a
/// required one the [`REQUIRED_TEXT_PATTERN`] (answers may hold empty strings).
fn free_text_without_control_characters(schema: &mut Schema, request: bool) {
    let inline = |schema: &mut RefOr<Schema>| {
        if let RefOr::T(schema) = schema {
            free_text_without_control_characters(schema, request);
        }
    };
    match schema {
        Schema::Object(object) => {
            if is_free_text(object) {
                object.pattern = Some(FREE_TEXT_PATTERN.to_owned());
            }
            for (name, property) in object.properties.iter_mut() {
                if let RefOr::T(Schema::Object(property)) = property
                    && request
                    && object.required.contains(name)
                    && is_free_text(property)
                {
                    property.pattern = Some(REQUIRED_TEXT_PATTERN.to_owned());
                }
                inline(property);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                inline(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(inline),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(inline),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(inline),
        _ => {}
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
    let free_text = || ObjectBuilder::new().schema_type(Type::String).build();
    let headers = [
        (
            "Idempotency-Key",
            Required::True,
            "Same key and body: same command and answer; other body: 409",
            string("^[!-~]+$", 255),
        ),
        // Preferences we do not know are ignored (RFC 7240), so any value is a valid one.
        (
            "Prefer",
            Required::False,
            "`wait=N` (N ≤ 30): answer the outcome if it arrives within N seconds",
            free_text(),
        ),
        // Any entity tag is valid (RFC 9110 §13.1.1): one that is not the current version
        // fails the precondition with 412.
        (
            "If-Match",
            Required::False,
            "`\"<version>\"` (or `*`): refused with 412 when the resource moved on",
            free_text(),
        ),
    ];
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    for (name, required, description, schema) in headers {
        // A handler that declares one of them keeps its description; the rules are these.
        let declared = parameters.iter_mut().find_map(|p| match p {
            RefOr::T(p) if p.name.eq_ignore_ascii_case(name) => Some(p),
            _ => None,
        });
        if let Some(declared) = declared {
            declared.schema = Some(schema.into());
            declared.required = required;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::has_control_characters;

    /// The patterns say what the server does: a client generating text from the document
    /// is never refused for characters it was allowed, nor allowed ones the server refuses.
    #[test]
    fn the_text_patterns_match_the_servers_character_rule() {
        let free = regex::Regex::new(FREE_TEXT_PATTERN).unwrap();
        let required = regex::Regex::new(REQUIRED_TEXT_PATTERN).unwrap();
        for c in (0..0x3000)
            .chain([0xfeff, 0xfffd, 0x1_f600])
            .filter_map(char::from_u32)
        {
            let text = format!("a{c}b");
            assert_eq!(
                free.is_match(&text),
                !has_control_characters(&text),
                "U+{:04X}",
                u32::from(c)
            );
            assert_eq!(
                required.is_match(&text),
                free.is_match(&text),
                "U+{:04X}",
                u32::from(c)
            );
        }
        for blank in ["", " ", "\t\n ", "\u{a0}"] {
            assert!(!required.is_match(blank), "{blank:?} is blank");
            assert!(free.is_match(blank), "{blank:?} is free text");
        }
        assert!(required.is_match(" x "));
    }
}
