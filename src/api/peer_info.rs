//! PeerInfo: one entry of a peer list, in its JSON and text forms.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::host::{HostAddress, HostAddressError, Hostname, HostnameError};
use super::peer_id::{PeerId, PeerIdError};

/// One peer entry: an optional certificate fingerprint and an address.
///
/// `id` is `None` for nodes with CA-signed certificates (bootstrap nodes are listed so).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PeerInfo {
    /// The certificate fingerprint the advertiser claims for this address.
    pub id: Option<PeerId>,
    /// Where the node listens.
    pub address: HostAddress,
}

/// Why a JSON value is not a PeerInfo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerInfoError {
    /// The entry is not a JSON object.
    #[error("peer entry is not an object")]
    NotAnObject,
    /// A required key is missing (`id` may be null but must be present).
    #[error("peer entry lacks {0:?}")]
    MissingKey(&'static str),
    /// `id` is neither null nor a string.
    #[error("peer id is not a string")]
    IdNotString,
    /// `id` is not a valid peer id.
    #[error("{0}")]
    Id(#[from] PeerIdError),
    /// `address` is not an object.
    #[error("address is not an object")]
    AddressNotObject,
    /// `hostname` is not a string.
    #[error("hostname is not a string")]
    HostnameNotString,
    /// `hostname` is not valid.
    #[error("{0}")]
    Hostname(#[from] HostnameError),
    /// `port` is not an integer from 0 to 65535.
    #[error("port is not an integer from 0 to 65535")]
    Port,
}

impl PeerInfoError {
    /// A stable lowercase name for storing the reason.
    pub fn kind(&self) -> &'static str {
        match self {
            PeerInfoError::NotAnObject
            | PeerInfoError::MissingKey(_)
            | PeerInfoError::AddressNotObject => "invalid_entry",
            PeerInfoError::IdNotString | PeerInfoError::Id(_) => "invalid_id",
            PeerInfoError::HostnameNotString | PeerInfoError::Hostname(_) => "invalid_hostname",
            PeerInfoError::Port => "invalid_port",
        }
    }
}

impl PeerInfo {
    /// A peer entry from its parts.
    pub fn new(id: Option<PeerId>, address: HostAddress) -> Self {
        PeerInfo { id, address }
    }

    /// Parses one entry of a peer list from untrusted JSON; never panics.
    ///
    /// # Errors
    /// Returns the first thing wrong with the entry.
    pub fn from_json(v: &Value) -> Result<Self, PeerInfoError> {
        let obj = v.as_object().ok_or(PeerInfoError::NotAnObject)?;
        let id = match obj.get("id").ok_or(PeerInfoError::MissingKey("id"))? {
            Value::Null => None,
            Value::String(s) => Some(s.parse::<PeerId>()?),
            _ => return Err(PeerInfoError::IdNotString),
        };
        let addr = obj
            .get("address")
            .ok_or(PeerInfoError::MissingKey("address"))?
            .as_object()
            .ok_or(PeerInfoError::AddressNotObject)?;
        let hostname: Hostname = addr
            .get("hostname")
            .ok_or(PeerInfoError::MissingKey("hostname"))?
            .as_str()
            .ok_or(PeerInfoError::HostnameNotString)?
            .parse()?;
        let port = addr
            .get("port")
            .ok_or(PeerInfoError::MissingKey("port"))?
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or(PeerInfoError::Port)?;
        Ok(PeerInfo::new(id, HostAddress::new(hostname, port)))
    }

    /// The JSON form, keys in chainweb's order (`id`, `address`).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id.map(|i| i.to_string()),
            "address": {"hostname": self.address.hostname.to_string(), "port": self.address.port},
        })
    }
}

impl serde::Serialize for PeerInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        #[derive(serde::Serialize)]
        struct Addr<'a> {
            hostname: &'a Hostname,
            port: u16,
        }
        let mut st = s.serialize_struct("PeerInfo", 2)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field(
            "address",
            &Addr {
                hostname: &self.address.hostname,
                port: self.address.port,
            },
        )?;
        st.end()
    }
}

impl serde::Serialize for Hostname {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PeerInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        PeerInfo::from_json(&v).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for PeerInfo {
    /// The text form `[<id>@]<host>:<port>`, IPv6 in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(id) = &self.id {
            write!(f, "{id}@")?;
        }
        self.address.fmt(f)
    }
}

/// Why a text-form PeerInfo does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerInfoTextError {
    /// The part before `@` is not a peer id.
    #[error("invalid peer id: {0}")]
    Id(#[from] PeerIdError),
    /// The address part is not valid.
    #[error("invalid address: {0}")]
    Address(#[from] HostAddressError),
}

impl FromStr for PeerInfo {
    type Err = PeerInfoTextError;

    /// Parses the text form `[<id>@]<host>:<port>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (id, addr) = match s.split_once('@') {
            Some((id, addr)) => (Some(id.parse::<PeerId>()?), addr),
            None => (None, s),
        };
        Ok(PeerInfo::new(id, addr.parse()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_seed_entries() {
        let v = json!({"id": "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40",
                       "address": {"hostname": "13.251.43.216", "port": 1789}});
        let p = PeerInfo::from_json(&v).unwrap();
        assert_eq!(
            p.to_string(),
            "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40@13.251.43.216:1789"
        );
        assert_eq!(p.to_json(), v);
        assert_eq!(serde_json::to_value(&p).unwrap(), v);
        let null_id = json!({"id": null, "address": {"hostname": "fr1.chainweb.com", "port": 443}});
        let p = PeerInfo::from_json(&null_id).unwrap();
        assert_eq!(p.id, None);
        assert_eq!(p.to_string(), "fr1.chainweb.com:443");
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"id":null,"address":{"hostname":"fr1.chainweb.com","port":443}}"#
        );
    }

    #[test]
    fn rejects_malformed_entries_with_a_kind() {
        let cases = [
            (json!(5), "invalid_entry"),
            (
                json!({"address": {"hostname": "a.b", "port": 1}}),
                "invalid_entry",
            ),
            (json!({"id": null}), "invalid_entry"),
            (json!({"id": null, "address": []}), "invalid_entry"),
            (
                json!({"id": 7, "address": {"hostname": "a.b", "port": 1}}),
                "invalid_id",
            ),
            (
                json!({"id": "short", "address": {"hostname": "a.b", "port": 1}}),
                "invalid_id",
            ),
            (
                json!({"id": null, "address": {"hostname": 1, "port": 1}}),
                "invalid_hostname",
            ),
            (
                json!({"id": null, "address": {"hostname": "127.1", "port": 1}}),
                "invalid_hostname",
            ),
            (
                json!({"id": null, "address": {"hostname": "a.b", "port": 65536}}),
                "invalid_port",
            ),
            (
                json!({"id": null, "address": {"hostname": "a.b", "port": -1}}),
                "invalid_port",
            ),
            (
                json!({"id": null, "address": {"hostname": "a.b", "port": "443"}}),
                "invalid_port",
            ),
            (
                json!({"id": null, "address": {"hostname": "a.b", "port": 1.5}}),
                "invalid_port",
            ),
            (
                json!({"id": null, "address": {"hostname": "a.b"}}),
                "invalid_entry",
            ),
        ];
        for (v, kind) in cases {
            assert_eq!(PeerInfo::from_json(&v).unwrap_err().kind(), kind, "{v}");
        }
    }

    #[test]
    fn text_form_round_trips() {
        for s in [
            "1.2.3.4:1789",
            "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40@[2001:db8::1]:443",
            "us-e1.chainweb.com:443",
        ] {
            assert_eq!(s.parse::<PeerInfo>().unwrap().to_string(), s);
        }
        assert!("bad@1.2.3.4:1".parse::<PeerInfo>().is_err());
        assert!("1.2.3.4".parse::<PeerInfo>().is_err());
    }
}
