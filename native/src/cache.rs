//! The one bounded cache of the crate: least recently used entries evicted first, bounded by
//! count and bytes, shared between threads, with hit/miss/byte figures for the metrics.
//!
//! Values are handed out as `Arc`s and the lock is held only for the look-up or the insert,
//! never while a value is made, so concurrent misses of one key each make it once. Two
//! eviction policies: one entry at a time (few large entries: backgrounds), or the least
//! recently used quarter at once (many small entries: glyph masks; one partial sort per many
//! misses instead of a scan per miss).
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

/// How a full cache makes room for a new entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// The least recently used entry, then the next, until the new one fits.
    Oldest,
    /// The least recently used quarter at once; the new entry is dropped if it still does not fit.
    OldestQuarter,
}

/// What a cache holds and how it has served, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Look-ups answered from the cache since it was made.
    pub hits: u64,
    /// Look-ups that had to make the value (and then offered it to the cache).
    pub misses: u64,
    /// Bytes held, as counted against `max_bytes`.
    pub bytes: usize,
    /// Entries held.
    pub entries: usize,
    /// The byte bound.
    pub max_bytes: usize,
}

/// Values by key, least recently used evicted first, bounded by count and bytes.
pub struct BoundedCache<K, V> {
    max_entries: usize,
    max_bytes: usize,
    eviction: Eviction,
    state: Mutex<State<K, V>>,
}

struct State<K, V> {
    entries: HashMap<K, Entry<V>>,
    bytes: usize,
    clock: u64,
    hits: u64,
    misses: u64,
}

struct Entry<V> {
    value: Arc<V>,
    size: usize,
    used: u64,
}

impl<K: Hash + Eq, V> BoundedCache<K, V> {
    /// An empty cache holding at most `max_entries` values and `max_bytes` bytes of them.
    pub fn new(max_entries: usize, max_bytes: usize, eviction: Eviction) -> Self {
        Self {
            max_entries,
            max_bytes,
            eviction,
            state: Mutex::new(State {
                entries: HashMap::new(),
                bytes: 0,
                clock: 0,
                hits: 0,
                misses: 0,
            }),
        }
    }

    /// Number of values held.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Hits, misses and bytes held so far.
    pub fn stats(&self) -> CacheStats {
        let state = self.lock();
        CacheStats {
            hits: state.hits,
            misses: state.misses,
            bytes: state.bytes,
            entries: state.entries.len(),
            max_bytes: self.max_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        // A panic elsewhere cannot leave the maps inconsistent: every update is a few
        // statements that do not panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value under `key`, counted as a hit, or `None`, counted as a miss.
    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_if(key, |_| true)
    }

    /// The value under `key` if `fits` accepts it (a hit, and it counts as used), else `None`
    /// (a miss).
    pub fn get_if<Q>(&self, key: &Q, fits: impl FnOnce(&V) -> bool) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut state = self.lock();
        state.clock += 1;
        let now = state.clock;
        let found = state
            .entries
            .get_mut(key)
            .filter(|e| fits(&e.value))
            .map(|e| {
                e.used = now;
                Arc::clone(&e.value)
            });
        match found {
            Some(_) => state.hits += 1,
            None => state.misses += 1,
        }
        found
    }

    /// Keeps `value`, counted as `size` bytes, under `key` (replacing what was there), making
    /// room as the eviction policy says. A value larger than the whole bound is not kept.
    pub fn insert(&self, key: K, value: Arc<V>, size: usize) {
        if size > self.max_bytes || self.max_entries == 0 {
            return;
        }
        let mut state = self.lock();
        let full = |s: &State<K, V>| {
            s.entries.len() >= self.max_entries || s.bytes + size > self.max_bytes
        };
        match self.eviction {
            Eviction::Oldest => {
                if let Some(old) = state.entries.remove(&key) {
                    state.bytes -= old.size;
                }
                while full(&state) {
                    let Some(oldest) = state
                        .entries
                        .iter()
                        .min_by_key(|(_, e)| e.used)
                        .map(|(_, e)| e.used)
                    else {
                        break;
                    };
                    let mut freed = 0;
                    state.entries.retain(|_, e| {
                        let keep = e.used != oldest;
                        if !keep {
                            freed += e.size;
                        }
                        keep
                    });
                    state.bytes -= freed;
                }
            }
            Eviction::OldestQuarter => {
                if full(&state) {
                    let mut ages: Vec<u64> = state.entries.values().map(|e| e.used).collect();
                    let cut = ages.len() / 4;
                    let oldest = if ages.is_empty() {
                        u64::MAX
                    } else {
                        *ages.select_nth_unstable(cut).1
                    };
                    let mut freed = 0;
                    state.entries.retain(|_, e| {
                        let keep = e.used > oldest;
                        if !keep {
                            freed += e.size;
                        }
                        keep
                    });
                    state.bytes -= freed;
                    if full(&state) {
                        return;
                    }
                }
            }
        }
        state.clock += 1;
        let used = state.clock;
        if let Some(old) = state.entries.insert(key, Entry { value, size, used }) {
            state.bytes -= old.size;
        }
        state.bytes += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(eviction: Eviction) -> BoundedCache<u32, u32> {
        let cache = BoundedCache::new(8, 1000, eviction);
        for k in 0..8 {
            cache.insert(k, Arc::new(k), 10);
        }
        cache
    }

    #[test]
    fn oldest_evicts_one_at_a_time() {
        let cache = filled(Eviction::Oldest);
        assert!(cache.get(&0).is_some()); // 0 is now the most recent; 1 the oldest
        cache.insert(8, Arc::new(8), 10);
        assert_eq!(cache.len(), 8);
        assert!(cache.get(&1).is_none());
        assert!(cache.get(&0).is_some() && cache.get(&8).is_some());
        assert_eq!(cache.bytes(), 80);
    }

    #[test]
    fn oldest_quarter_evicts_a_quarter_at_once() {
        let cache = filled(Eviction::OldestQuarter);
        cache.insert(8, Arc::new(8), 10);
        // 0, 1 and 2 (the cut and everything used before it) go; 8 comes in.
        assert_eq!(cache.len(), 6);
        assert!(cache.get(&2).is_none() && cache.get(&3).is_some());
        assert_eq!(cache.bytes(), 60);
    }

    #[test]
    fn bytes_bound_and_stats() {
        let cache: BoundedCache<&str, u8> = BoundedCache::new(10, 25, Eviction::Oldest);
        cache.insert("a", Arc::new(1), 10);
        cache.insert("b", Arc::new(2), 10);
        cache.insert("c", Arc::new(3), 10);
        cache.insert("huge", Arc::new(4), 26);
        assert!(cache.get("a").is_none());
        assert!(cache.get_if("b", |v| *v == 2).is_some());
        assert!(cache.get_if("c", |v| *v == 2).is_none());
        let stats = cache.stats();
        assert_eq!(
            (stats.hits, stats.misses, stats.bytes, stats.entries),
            (1, 2, 20, 2)
        );
    }
}
