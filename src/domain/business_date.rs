//! The business calendar date of an instant, which fixes the prices an order gets (§5.2).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Default business time zone: Blue Whale and its stations work on French time.
pub const DEFAULT_BUSINESS_TZ: Tz = chrono_tz::Europe::Paris;

/// Calendar date in `tz` of the instant the ingress accepted the order.
///
/// Taking the acceptance instant (not the processing time) means a queue backlog at midnight
/// cannot move an order onto the next day's contract terms.
pub fn order_date(accepted_at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    accepted_at.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid RFC 3339")
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn paris_midnight_table() {
        let cases = [
            // Winter (UTC+1): midnight Paris is 23:00 UTC the day before.
            ("2026-01-15T22:59:59Z", date(2026, 1, 15)),
            ("2026-01-15T23:00:00Z", date(2026, 1, 16)),
            ("2026-01-15T23:30:00Z", date(2026, 1, 16)),
            ("2026-12-31T23:00:00Z", date(2027, 1, 1)),
            // Night of the spring change (29 March 2026 at 02:00 local): still UTC+1 at midnight.
            ("2026-03-28T22:59:59Z", date(2026, 3, 28)),
            ("2026-03-28T23:30:00Z", date(2026, 3, 29)),
            // Summer (UTC+2): midnight Paris is 22:00 UTC the day before.
            ("2026-07-14T21:59:59Z", date(2026, 7, 14)),
            ("2026-07-14T22:00:00Z", date(2026, 7, 15)),
            ("2026-07-14T23:30:00Z", date(2026, 7, 15)),
            // Night of the autumn change (25 October 2026 at 03:00 local): UTC+2 at midnight.
            ("2026-10-24T21:59:59Z", date(2026, 10, 24)),
            ("2026-10-24T22:00:00Z", date(2026, 10, 25)),
        ];
        for (instant, expected) in cases {
            assert_eq!(
                order_date(utc(instant), DEFAULT_BUSINESS_TZ),
                expected,
                "{instant}"
            );
        }
    }

    #[test]
    fn other_zones_use_their_own_calendar() {
        let at = utc("2026-06-01T03:00:00Z");
        assert_eq!(order_date(at, chrono_tz::UTC), date(2026, 6, 1));
        assert_eq!(
            order_date(at, chrono_tz::America::New_York),
            date(2026, 5, 31)
        );
    }
}
