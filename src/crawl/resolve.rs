//! Name resolution and the dial log: the only way an address reaches a socket.
//!
//! Every DNS name goes through [`PolicyResolver`], which asks the crawl's own
//! [`NameResolver`] (the system resolver, a fixed table in tests, or none) and lets through
//! only addresses the egress policy allows. Every destination handed to a connection, IP
//! literal or resolved, is appended to the [`DialLog`], so a test can prove where the
//! crawler went.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::failure::FailureKind;
use super::policy::EgressPolicy;

/// A future resolving a name to IP addresses.
pub type Lookup = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Looks up DNS names. Implementations must not follow the policy themselves: the caller
/// filters what they return.
pub trait NameResolver: Send + Sync + fmt::Debug {
    /// Resolves `name` to addresses.
    fn lookup(&self, name: &str) -> Lookup;
}

/// The operating system's resolver (`getaddrinfo` via tokio).
#[derive(Debug, Default)]
pub struct SystemResolver;

impl NameResolver for SystemResolver {
    fn lookup(&self, name: &str) -> Lookup {
        let name = name.to_string();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    }
}

/// A fixed table of names, for tests and simulated networks: nothing leaves the process.
#[derive(Debug, Default, Clone)]
pub struct StaticResolver(pub HashMap<String, Vec<IpAddr>>);

impl NameResolver for StaticResolver {
    fn lookup(&self, name: &str) -> Lookup {
        let found = self.0.get(&name.to_ascii_lowercase()).cloned();
        Box::pin(async move {
            found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "unknown name"))
        })
    }
}

/// Every destination a crawl handed to a connection, in order. IP literals are recorded
/// with their port; addresses a DNS name resolved to are recorded with port 0 (a resolver
/// sees names only; the connection uses the advertised port).
#[derive(Debug, Default)]
pub struct DialLog(Mutex<Vec<SocketAddr>>);

impl DialLog {
    /// Records one destination.
    pub fn record(&self, addr: SocketAddr) {
        if let Ok(mut log) = self.0.lock() {
            log.push(addr);
        }
    }

    /// Everything recorded so far.
    pub fn snapshot(&self) -> Vec<SocketAddr> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// A name that could not be resolved.
#[derive(Debug, thiserror::Error)]
#[error("name resolution failed: {0}")]
pub struct DnsFailure(pub std::io::Error);

/// A name whose every address the egress policy refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("destination refused by the egress policy ({})", .0.as_str())]
pub struct PolicyRefused(pub FailureKind);

/// The resolver reqwest uses: looks a name up, then applies the egress policy to the result.
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    /// Where names are looked up.
    pub inner: Arc<dyn NameResolver>,
    /// What may be contacted.
    pub policy: EgressPolicy,
    /// Where allowed destinations are recorded.
    pub log: Arc<DialLog>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let name = name.as_str().to_string();
        Box::pin(async move {
            if !this.policy.resolve_dns {
                return Err(PolicyRefused(FailureKind::Policy(super::AddrClass::Dns)).into());
            }
            let ips = this.inner.lookup(&name).await.map_err(DnsFailure)?;
            let mut refused = None;
            let allowed: Vec<SocketAddr> = ips
                .into_iter()
                .filter(|ip| match this.policy.check_ip(*ip) {
                    Ok(()) => true,
                    Err(kind) => {
                        refused.get_or_insert(kind);
                        false
                    }
                })
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if allowed.is_empty() {
                return Err(match refused {
                    Some(kind) => PolicyRefused(kind).into(),
                    None => DnsFailure(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no addresses",
                    ))
                    .into(),
                });
            }
            for a in &allowed {
                this.log.record(*a);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
