//! The HTTP side of keyset paging: `limit` checked, `cursor` parsed.

use chrono::DateTime;

use super::error::{ApiError, ApiResult, FieldError};
use crate::db::keyset::Position;

/// Items per page unless asked.
pub const DEFAULT_LIMIT: u32 = 20;
/// Items per page at most.
pub const MAX_LIMIT: u32 = 100;

/// The page size asked for, within 1–[`MAX_LIMIT`].
pub fn limit(asked: Option<u32>) -> ApiResult<u32> {
    let limit = asked.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::Validation(vec![FieldError::new(
            "limit",
            "OUT_OF_RANGE",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )]))
    }
}

/// The cursor of a row: its position as `<microseconds since 1970>_<id, 32 hex digits>`.
/// Every string of that shape (the pattern the document declares) is a position, so a client
/// cannot hold a well-formed cursor that the API refuses.
pub fn encode_cursor(position: Position) -> String {
    format!(
        "{}_{}",
        position.at.timestamp_micros(),
        position.id.as_simple()
    )
}

/// The position a cursor stands for (422 on `cursor` if it is not of that shape).
pub fn decode_cursor(cursor: &str) -> ApiResult<Position> {
    let bad = || {
        ApiError::Validation(vec![FieldError::new(
            "cursor",
            "INVALID_CURSOR",
            "cursor is not one this API gave",
        )])
    };
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let well_formed = (1..=16).contains(&micros.len())
        && micros.bytes().all(|b| b.is_ascii_digit())
        && id.len() == 32
        && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return Err(bad());
    }
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    let id = id.parse().map_err(|_| bad())?;
    Ok(Position { at, id })
}

/// Cuts `rows` (fetched with one more than `limit`) to the page, with the next page's cursor
/// when there is one.
pub fn page<T>(
    mut rows: Vec<T>,
    limit: u32,
    position: impl Fn(&T) -> Position,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows
        .last()
        .filter(|_| more)
        .map(|row| encode_cursor(position(row)));
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let position = Position {
            at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            id: Uuid::from_u128(7),
        };
        let cursor = encode_cursor(position);
        assert_eq!(cursor, "1764000000123456_00000000000000000000000000000007");
        assert_eq!(decode_cursor(&cursor).unwrap(), position);
        let forgeries = [
            "",
            "!!",
            "12_not-a-uuid",
            "_00000000000000000000000000000007",
            "12_0000000000000000000000000000000A",
            "12345678901234567_00000000000000000000000000000007",
            "-12_00000000000000000000000000000007",
        ];
        for forged in forgeries {
            assert!(decode_cursor(forged).is_err(), "{forged:?}");
        }
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_rows_remain() {
        let at = DateTime::from_timestamp_micros(1).unwrap();
        let rows: Vec<u128> = (0..4).collect();
        let position = |n: &u128| Position {
            at,
            id: Uuid::from_u128(*n),
        };
        let (first, next) = page(rows.clone(), 3, position);
        assert_eq!(first, [0, 1, 2]);
        assert_eq!(decode_cursor(&next.unwrap()).unwrap(), position(&2));
        let (all, none) = page(rows, 4, position);
        assert_eq!((all.len(), none), (4, None));
        assert!(limit(Some(0)).is_err() && limit(Some(101)).is_err());
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
    }
}
