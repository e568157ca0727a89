//! Injected answer latency: a wide-area network modelled on loopback.
//!
//! Every node waits a fixed delay before each answer: the network's base latency plus a
//! per-node share of the jitter, drawn once from the seed, so the same configuration always
//! gives the same delays and a benchmark can compute its lower bound from them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The delay the node listening on `addr` adds before each answer. Keyed by address, so a
/// node keeps its delay across churn steps, and whoever knows the network's addresses (the
/// bench's lower bound, from the ground truth) computes the very delays it serves.
pub fn address_delay(seed: u64, addr: SocketAddr, base: Duration, jitter: Duration) -> Duration {
    let key = match addr.ip() {
        IpAddr::V4(ip) => u32::from(ip) as usize,
        // Simulated nodes are IPv4; an IPv6 one shares key 0.
        IpAddr::V6(_) => 0,
    };
    node_delay(seed, key, base, jitter)
}

/// The delay of node number `index`: `base` plus a uniform share of `jitter` that depends
/// only on `seed` and `index`.
fn node_delay(seed: u64, index: usize, base: Duration, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return base;
    }
    // A stream of its own per node: the delay does not depend on how many nodes exist.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(2 + index as u64);
    let share: f64 = rng.random::<f64>();
    base + jitter.mul_f64(share)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_seeded_and_bounded() {
        let base = Duration::from_millis(100);
        let jitter = Duration::from_millis(50);
        assert_eq!(node_delay(1, 7, base, Duration::ZERO), base);
        let d: Vec<Duration> = (0..50).map(|i| node_delay(3, i, base, jitter)).collect();
        assert!(d.iter().all(|&x| x >= base && x <= base + jitter));
        assert!(d.windows(2).any(|w| w[0] != w[1]), "jitter varies by node");
        assert_eq!(d[9], node_delay(3, 9, base, jitter));
        assert_ne!(d[9], node_delay(4, 9, base, jitter));
    }
}
