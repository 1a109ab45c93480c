//! The write path of every kind of master data: a creation or a patch becomes a
//! `<entity>.change` command, checked against the current data with the worker's own checks
//! and handed to the command path; once applied, the answer is the record with its `ETag`.
//! [`record_endpoints!`] declares the thin handlers (and their OpenAPI) of one kind.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::command_path::{
    self, Answer, CommandStatus, Submission, accepted_command, header_value, request_hash,
};
use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, RequestId};
use super::state::AppState;
use super::write_request::WriteRequest;
use crate::db::master_record_checks::refusal_of;
use crate::db::master_records::{self, MasterTable};
use crate::domain::master_record::RecordChange;
use crate::messaging::command::{CommandSpec, ResourceRef};
use crate::messaging::commands::master_record::{ChangeRecord, RecordCommand};
use crate::messaging::pending::pending_any;

/// A kind of master data served by the API.
pub trait RecordResource: MasterTable + RecordCommand {
    /// Its collection, e.g. `/api/v1/products`.
    const PATH: &'static str;

    /// Whether `user` may see record `id` (404 otherwise); by default staff only.
    fn may_read(user: &AuthUser, id: Uuid) -> bool {
        let _ = id;
        user.role.is_staff()
    }

    /// The fields as the command carries them, `seed` being the command id (a supplier's new
    /// sites get their ids from it, so a replay names the same sites).
    fn seeded(fields: Self::Fields, seed: Uuid) -> Self::Fields {
        let _ = seed;
        fields
    }
}

/// A PATCH body: serialised, the fields it sets (absent ones left out, `null` clearing).
pub trait RecordPatch: Serialize {
    /// The body as the command carries it (see [`RecordResource::seeded`]).
    fn seeded(self, seed: Uuid) -> Self
    where
        Self: Sized,
    {
        let _ = seed;
        self
    }
}

/// A one-time password token, shown once in the answer to the admin who asked for it.
#[derive(Clone, Serialize, ToSchema)]
pub struct IssuedPasswordToken {
    /// The token (256 random bits, URL-safe base64): give it to the user, it is not stored.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for IssuedPasswordToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedPasswordToken(***)")
    }
}

/// How a master-data write answers: 202 with the command, or the record (201 when created)
/// with its `ETag`; a freshly issued password token is added to the first answer only.
struct RecordAnswer<K> {
    created: bool,
    issued: Option<IssuedPasswordToken>,
    /// Set by the precheck, which runs for a new command only: a replay never shows a token
    /// (it is not the one its command carries).
    fresh: AtomicBool,
    kind: std::marker::PhantomData<K>,
}

impl<K> RecordAnswer<K> {
    fn token(&self) -> Option<&IssuedPasswordToken> {
        self.issued
            .as_ref()
            .filter(|_| self.fresh.load(Ordering::SeqCst))
    }
}

/// Adds `password_reset` to a JSON answer when a token was issued.
fn with_token(body: Value, token: Option<&IssuedPasswordToken>) -> Value {
    match (body, token) {
        (Value::Object(mut object), Some(token)) => {
            object.insert("password_reset".to_owned(), json!(token));
            Value::Object(object)
        }
        (body, _) => body,
    }
}

impl<K: RecordResource> Answer for RecordAnswer<K> {
    async fn accepted(
        &self,
        _state: &AppState,
        _user: &AuthUser,
        command_id: Uuid,
        resource: &ResourceRef,
        status: CommandStatus,
    ) -> ApiResult<Response> {
        let response = accepted_command(command_id, resource, status)?;
        let Some(token) = self.token() else {
            return Ok(response);
        };
        let body = json!({
            "command_id": command_id,
            "status": status,
            "resource": resource,
        });
        let (parts, _) = response.into_parts();
        Ok((parts, Json(with_token(body, Some(token)))).into_response())
    }

    async fn applied(
        &self,
        state: &AppState,
        user: &AuthUser,
        resource: &ResourceRef,
    ) -> ApiResult<Response> {
        let view = read::<K>(state, user, resource.id).await?;
        let status = if self.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let location = header_value(&format!("{}/{}", K::PATH, resource.id))?;
        let mut response = with_etag(with_token(view, self.token()))?;
        *response.status_mut() = status;
        response.headers_mut().insert(header::LOCATION, location);
        Ok(response)
    }
}

/// Record `id` of kind `K` as `user` may see it (404 otherwise).
pub async fn read<K: RecordResource>(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
) -> ApiResult<Value> {
    if !K::may_read(user, id) {
        return Err(ApiError::NotFound);
    }
    let mut conn = state.db.acquire().await?;
    master_records::view::<K>(&mut conn, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// A record with its `ETag` (its version).
pub fn with_etag(view: Value) -> ApiResult<Response> {
    let version = view.get("version").and_then(Value::as_i64).unwrap_or(0);
    let etag = header_value(&format!("\"{version}\""))?;
    Ok(([(header::ETAG, etag)], Json(view)).into_response())
}

/// Checks a change of record `id` against the current data with the worker's checks and
/// submits it; `issued` is the plain token whose hash `extra` carries, if any.
pub async fn submit<K: RecordResource>(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    (id, change): (Uuid, RecordChange<K::Fields>),
    (extra, issued): (K::Extra, Option<IssuedPasswordToken>),
) -> ApiResult<Response> {
    let created = change.creates();
    let expected_version = write.named_version();
    let command = ChangeRecord::<K> {
        id,
        expected_version,
        change,
        extra,
    };
    // The client's request, without what the ingress drew at random for it (a token hash):
    // the same request again is a replay.
    let canonical = ChangeRecord::<K> {
        extra: K::Extra::default(),
        ..command.clone()
    };
    let hash = request_hash(ChangeRecord::<K>::TYPE, &canonical);
    let answer = RecordAnswer::<K> {
        created,
        issued,
        fresh: AtomicBool::new(false),
        kind: std::marker::PhantomData,
    };
    let command_id = command_path::command_id(user, write);
    let (checked, actor, fresh) = (command.clone(), user.actor(), &answer.fresh);
    let precheck = async move {
        if let Ok(Some(_)) = pending_any(&state.js, &state.ns, command_id).await {
            return Ok(());
        }
        let mut conn = state.db.acquire().await?;
        let stored = master_records::load::<K>(&mut conn, checked.id, false).await?;
        if let Some(refusal) = refusal_of(&mut conn, &checked, &actor, stored.as_ref()).await? {
            return Err(ApiError::Refused(refusal));
        }
        write.if_match()?;
        fresh.store(true, Ordering::SeqCst);
        Ok(())
    };
    let submission = Submission {
        command,
        request_hash: hash,
        precheck,
    };
    command_path::submit(state, user, request_id, write, submission, &answer).await
}

/// Submits the creation of a record of kind `K` (its id: the command's), with what the
/// command carries besides (see [`submit`]).
pub async fn create<K: RecordResource>(
    state: &AppState,
    user: &AuthUser,
    (request_id, write): (&RequestId, &WriteRequest),
    fields: K::Fields,
    extra: (K::Extra, Option<IssuedPasswordToken>),
) -> ApiResult<Response> {
    let id = command_path::command_id(user, write);
    let change = RecordChange::Create {
        fields: K::seeded(fields, id),
    };
    submit::<K>(state, user, request_id, write, (id, change), extra).await
}

/// Submits a patch of record `id` of kind `K`.
pub async fn update<K: RecordResource, P: RecordPatch>(
    state: &AppState,
    user: &AuthUser,
    request_id: &RequestId,
    write: &WriteRequest,
    id: Uuid,
    body: P,
) -> ApiResult<Response> {
    let seed = command_path::command_id(user, write);
    let patch = match serde_json::to_value(body.seeded(seed)) {
        Ok(Value::Object(patch)) => patch,
        Ok(_) => Map::new(),
        Err(e) => return Err(ApiError::Internal(format!("patch: {e}"))),
    };
    let change = RecordChange::Update { patch };
    submit::<K>(
        state,
        user,
        request_id,
        write,
        (id, change),
        Default::default(),
    )
    .await
}

/// Declares `create`, `update` (PATCH) and `get` of one kind of master data, with their
/// OpenAPI descriptions: thin handlers over [`create`], [`update`] and [`read`].
#[macro_export]
macro_rules! record_endpoints {
    ($kind:ty, $path:literal, $tag:literal, $what:literal, $fields:ty, $patch:ty, $view:ty) => {
        $crate::record_endpoints!(@update_get $kind, $path, $tag, $what, $patch, $view);

        #[doc = concat!("Creates a ", $what, ".")]
        #[utoipa::path(post, path = concat!($path), tag = $tag, request_body = $fields,
            summary = concat!("Creates a ", $what, " (MANAGER, ADMIN)."),
            params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
                ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome")),
            security(("bearer" = [])),
            responses((status = 202, body = $crate::http::command_path::CommandAccepted), (status = 201, body = $view),
                (status = 401, body = $crate::http::error::Problem), (status = 403, body = $crate::http::error::Problem),
                (status = 409, body = $crate::http::error::Problem), (status = 422, body = $crate::http::error::Problem)))]
        pub async fn create(
            axum::extract::State(state): axum::extract::State<$crate::http::state::AppState>,
            user: $crate::http::extract::AuthUser,
            request_id: $crate::http::extract::RequestId,
            write: $crate::http::write_request::WriteRequest,
            $crate::http::extract::ValidJson(body): $crate::http::extract::ValidJson<$fields>,
        ) -> $crate::http::error::ApiResult<axum::response::Response> {
            $crate::http::master_record_writes::create::<$kind>(&state, &user, (&request_id, &write), body, Default::default()).await
        }
    };
    (@update_get $kind:ty, $path:literal, $tag:literal, $what:literal, $patch:ty, $view:ty) => {
        #[doc = concat!("Changes the fields of a ", $what, " present in the body.")]
        #[utoipa::path(patch, path = concat!($path, "/{id}"), tag = $tag, request_body = $patch,
            summary = concat!("Changes the fields of a ", $what, " present in the body (MANAGER, ADMIN; users ADMIN)."),
            params(("id" = uuid::Uuid, Path, description = "Id"),
                ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
                ("Prefer" = Option<String>, Header, description = "wait=N (N ≤ 30) to wait for the outcome"),
                ("If-Match" = Option<String>, Header, description = "\"<version>\": refuse (412) if it changed")),
            security(("bearer" = [])),
            responses((status = 202, body = $crate::http::command_path::CommandAccepted), (status = 200, body = $view),
                (status = 401, body = $crate::http::error::Problem), (status = 403, body = $crate::http::error::Problem),
                (status = 404, body = $crate::http::error::Problem), (status = 409, body = $crate::http::error::Problem),
                (status = 412, body = $crate::http::error::Problem), (status = 422, body = $crate::http::error::Problem)))]
        pub async fn update(
            axum::extract::State(state): axum::extract::State<$crate::http::state::AppState>,
            user: $crate::http::extract::AuthUser,
            request_id: $crate::http::extract::RequestId,
            $crate::http::extract::PathId(id): $crate::http::extract::PathId,
            write: $crate::http::write_request::WriteRequest,
            $crate::http::extract::ValidJson(body): $crate::http::extract::ValidJson<$patch>,
        ) -> $crate::http::error::ApiResult<axum::response::Response> {
            $crate::http::master_record_writes::update::<$kind, _>(&state, &user, &request_id, &write, id, body).await
        }

        #[doc = concat!("One ", $what, " with its `ETag`.")]
        #[utoipa::path(get, path = concat!($path, "/{id}"), tag = $tag,
            params(("id" = uuid::Uuid, Path, description = "Id")),
            security(("bearer" = [])),
            responses((status = 200, body = $view), (status = 404, body = $crate::http::error::Problem)))]
        pub async fn get(
            axum::extract::State(state): axum::extract::State<$crate::http::state::AppState>,
            user: $crate::http::extract::AuthUser,
            $crate::http::extract::PathId(id): $crate::http::extract::PathId,
        ) -> $crate::http::error::ApiResult<axum::response::Response> {
            let view = $crate::http::master_record_writes::read::<$kind>(&state, &user, id).await?;
            $crate::http::master_record_writes::with_etag(view)
        }
    };
}
