//! Acknowledgement rates of consumers over the last minute, from successive readings of their
//! ack floors (the ingress keeps the readings of its overview calls).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The window a rate is computed over.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Timed ack floors of consumers, oldest first.
#[derive(Debug, Default)]
pub struct ConsumerRates {
    readings: VecDeque<(Instant, String, u64)>,
}

impl ConsumerRates {
    /// Records a reading of `consumer` (`stream/name`) and returns its rate in messages per
    /// second since the oldest reading within the window; `None` until two readings exist.
    pub fn record(&mut self, at: Instant, consumer: &str, ack_floor: u64) -> Option<f64> {
        while self
            .readings
            .front()
            .is_some_and(|(t, _, _)| at.duration_since(*t) > WINDOW)
        {
            self.readings.pop_front();
        }
        let oldest = self
            .readings
            .iter()
            .find(|(_, name, _)| name == consumer)
            .map(|(t, _, floor)| (*t, *floor));
        self.readings
            .push_back((at, consumer.to_owned(), ack_floor));
        let (then, floor) = oldest?;
        let seconds = at.duration_since(then).as_secs_f64();
        // A re-created consumer starts again below its old floor: no rate rather than a
        // negative one.
        (seconds > 0.0 && ack_floor >= floor).then(|| (ack_floor - floor) as f64 / seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_needs_two_readings_within_the_window() {
        let mut rates = ConsumerRates::default();
        let start = Instant::now();
        assert_eq!(rates.record(start, "COMMANDS/w", 100), None);
        let rate = rates.record(start + Duration::from_secs(10), "COMMANDS/w", 600);
        assert_eq!(rate, Some(50.0));
        // Another consumer has its own history.
        assert_eq!(
            rates.record(start + Duration::from_secs(10), "EVENTS/n", 5),
            None
        );
        // Readings older than the window are forgotten: at 65 s the rate runs from 10 s.
        let late = start + Duration::from_secs(65);
        assert_eq!(rates.record(late, "COMMANDS/w", 1_150), Some(10.0));
        assert_eq!(
            rates.record(late + Duration::from_secs(70), "COMMANDS/w", 1_150),
            None
        );
    }

    #[test]
    fn a_recreated_consumer_has_no_rate_rather_than_a_negative_one() {
        let mut rates = ConsumerRates::default();
        let start = Instant::now();
        rates.record(start, "COMMANDS/w", 900);
        assert_eq!(
            rates.record(start + Duration::from_secs(5), "COMMANDS/w", 3),
            None
        );
    }
}
