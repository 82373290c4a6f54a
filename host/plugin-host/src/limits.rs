//! Per-call resource accounting: the memory cap (our own `ResourceLimiter`,
//! so an MLE verdict never depends on how a guest reports a failed
//! allocation) and the budgets of one call.

use wasmtime::ResourceLimiter;

/// The budgets of one plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Wall-clock deadline, in milliseconds.
    pub wall_ms: u64,
    /// Fuel (roughly one unit per Wasm instruction).
    pub fuel: u64,
    /// Bytes of linear memory, all memories together.
    pub memory_bytes: u64,
    /// Bytes the guest may write to stdout and stderr together.
    pub output_bytes: u64,
}

/// Tracks the linear memory of one store and refuses growth past the cap.
#[derive(Debug)]
pub struct MemoryLimiter {
    cap: u64,
    in_use: u64,
    peak: u64,
    hit: Option<u64>,
}

impl MemoryLimiter {
    /// A limiter allowing `cap` bytes of linear memory in total.
    pub fn new(cap: u64) -> Self {
        MemoryLimiter { cap, in_use: 0, peak: 0, hit: None }
    }

    /// The most memory the guest held at once, in bytes.
    pub fn peak(&self) -> u64 {
        self.peak
    }

    /// The total the guest asked for when it was refused, if it ever was.
    pub fn refused_at(&self) -> Option<u64> {
        self.hit
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let wanted = self.in_use - current as u64 + desired as u64;
        if wanted > self.cap {
            self.hit = Some(wanted);
            return Ok(false);
        }
        self.in_use = wanted;
        self.peak = self.peak.max(wanted);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|max| desired <= max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_growth_past_the_cap_and_remembers_it() {
        let mut l = MemoryLimiter::new(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_growing(0, 30, None).unwrap());
        assert_eq!(l.refused_at(), None);
        assert!(!l.memory_growing(60, 80, None).unwrap());
        assert_eq!(l.refused_at(), Some(110));
        assert!(l.memory_growing(60, 70, None).unwrap());
        assert_eq!(l.peak(), 100);
    }
}
