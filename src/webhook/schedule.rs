//! When to try a failed delivery again: a fixed schedule with jitter, and a
//! receiver's `Retry-After` honoured within bounds.

use std::time::Duration;

/// Waits between attempts: after the first failure 5 s, then 30 s, 2 min,
/// 10 min, 30 min, 1 h, 3 h; after the last, the delivery is failed.
pub const DEFAULT_RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(3 * 60 * 60),
];

/// Longest `Retry-After` we agree to wait.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// Each wait is stretched or shrunk by up to this fraction at random, so
/// many failing deliveries do not retry in lockstep.
const JITTER: f64 = 0.2;

/// The retry schedule in force.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    delays: Vec<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            delays: DEFAULT_RETRY_SCHEDULE.to_vec(),
        }
    }
}

impl RetryPolicy {
    pub fn new(delays: Vec<Duration>) -> RetryPolicy {
        RetryPolicy { delays }
    }

    /// Attempts a delivery gets before it is failed: the first plus one per wait.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// How long to wait after failed attempt number `attempt` (1-based), or
    /// `None` if that was the last one. `retry_after` is the receiver's wish.
    pub fn delay_after(
        &self,
        attempt: u32,
        max_attempts: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= max_attempts {
            return None;
        }
        let index = usize::try_from(attempt)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        let planned = self.delays.get(index).or(self.delays.last()).copied()?;
        let planned = jittered(planned);
        Some(match retry_after {
            Some(wish) => wish.min(MAX_RETRY_AFTER).max(planned),
            None => planned,
        })
    }
}

fn jittered(delay: Duration) -> Duration {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return delay;
    }
    let unit = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
    delay.mul_f64(1.0 + JITTER * (2.0 * unit - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_allows_eight_attempts() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts(), 8);
        assert_eq!(policy.delay_after(8, 8, None), None);
    }

    #[test]
    fn waits_follow_the_schedule_within_the_jitter() {
        let policy = RetryPolicy::default();
        let first = policy.delay_after(1, 8, None).unwrap();
        let last = policy.delay_after(7, 8, None).unwrap();
        assert!(first >= Duration::from_secs(4) && first <= Duration::from_secs(6));
        assert!(last >= Duration::from_secs(8_640) && last <= Duration::from_secs(12_960));
    }

    #[test]
    fn retry_after_lengthens_the_wait_but_is_capped() {
        let policy = RetryPolicy::new(vec![Duration::from_secs(1)]);
        let wish = Some(Duration::from_secs(120));
        assert_eq!(
            policy.delay_after(1, 2, wish),
            Some(Duration::from_secs(120))
        );
        let greedy = Some(Duration::from_secs(86_400));
        assert_eq!(policy.delay_after(1, 2, greedy), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn a_manual_retry_beyond_the_schedule_reuses_the_last_wait() {
        let policy = RetryPolicy::new(vec![Duration::from_secs(1), Duration::from_secs(2)]);
        let wait = policy.delay_after(5, 9, None).unwrap();
        assert!(wait >= Duration::from_millis(1_600) && wait <= Duration::from_millis(2_400));
    }
}
