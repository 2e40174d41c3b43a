//! A render's time limit, checked between the steps of the work (parsing, each node drawn,
//! encoding) so that no render outlives it by more than one step.
use crate::error::RenderError;
use std::time::{Duration, Instant};

/// When a render must give up; [`Deadline::NONE`] never expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No time limit.
    pub const NONE: Self = Self(None);

    /// A deadline `timeout` from now (one that cannot be represented never expires).
    pub fn after(timeout: Duration) -> Self {
        Self(Instant::now().checked_add(timeout))
    }

    /// `Err(RenderError::DeadlineExceeded)` once the deadline has passed.
    pub fn check(&self) -> Result<(), RenderError> {
        match self.0 {
            Some(at) if Instant::now() >= at => Err(RenderError::DeadlineExceeded),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_after_its_timeout_only() {
        assert_eq!(Deadline::NONE.check(), Ok(()));
        assert_eq!(Deadline::after(Duration::from_secs(60)).check(), Ok(()));
        let past = Deadline::after(Duration::ZERO);
        assert_eq!(past.check(), Err(RenderError::DeadlineExceeded));
        assert_eq!(Deadline::after(Duration::MAX).check(), Ok(()));
    }
}
