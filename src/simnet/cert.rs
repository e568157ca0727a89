//! Self-signed node certificates shaped like a real chainweb node's (spec §8).
//!
//! Every certificate has serial 1, issuer = subject = `CN=<node's host IP>`, **no SAN**,
//! basic constraints CA:true with path length 0, key usage (digital signature, non-repudiation,
//! key/data encipherment, key agreement, cert sign) and extended key usage serverAuth +
//! clientAuth. The node's peer id is SHA-256 over the certificate's DER
//! ([`PeerId::from_certificate_der`]).
//!
//! # Determinism
//! A simulated network must be reproducible from its configuration, and a peer id is a hash
//! of the whole signed certificate, so both the key and the signature must be deterministic.
//! [`KeyKind::Ed25519`] gives that: the private key is derived from a 32-byte seed and
//! Ed25519 signatures are deterministic. ring's ECDSA signatures use a fresh random nonce,
//! so a [`KeyKind::EcdsaP256`] certificate (and its id) differs on every start, like a real
//! node's ephemeral certificate. Validity is fixed (not "now + 365 days") for the same reason.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::api::PeerId;

/// The key type of simulated node certificates.
///
/// Real nodes use RSA-4096 with SHA-512 ([`KeyKind::Rsa4096`], `--real-certs`); making such
/// a key takes seconds, so the default is a fast curve.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum KeyKind {
    /// Ed25519 (a chainweb build option): fast, and fully reproducible from the seed.
    #[default]
    Ed25519,
    /// ECDSA P-256 with SHA-256: fast, but ring signs with a random nonce, so the
    /// certificate and the peer id change on every start.
    EcdsaP256,
    /// RSA 4096 bit, exponent 65537, signed with SHA-512: what real nodes make. The key is
    /// drawn from the system's random source (the `rsa` crate; ring cannot generate RSA
    /// keys) once per process and shared by all nodes; ids change on every start, like a
    /// real node's ephemeral certificate.
    Rsa4096,
}

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot create certificate for {host}: {source}")]
pub struct CertError {
    /// The host the certificate was for.
    pub host: IpAddr,
    /// What rcgen reported.
    #[source]
    pub source: rcgen::Error,
}

/// A node's certificate, its private key and the peer id derived from it.
#[derive(Debug)]
pub struct NodeCert {
    /// The signed certificate (DER).
    pub der: CertificateDer<'static>,
    /// The private key (PKCS#8 DER).
    pub key: PrivatePkcs8KeyDer<'static>,
    /// SHA-256 of `der`: the node's peer id.
    pub id: PeerId,
}

impl Clone for NodeCert {
    fn clone(&self) -> Self {
        NodeCert {
            der: self.der.clone(),
            key: self.key.clone_key(),
            id: self.id,
        }
    }
}

impl NodeCert {
    /// The private key in the form rustls takes.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Makes the certificate of the node at `host`.
///
/// `seed` fixes the key for [`KeyKind::Ed25519`] (same seed and host → same certificate and
/// id); [`KeyKind::EcdsaP256`] ignores it.
///
/// # Errors
/// Only if rcgen rejects the key or the parameters, which the unit tests rule out.
pub fn generate(kind: KeyKind, host: IpAddr, seed: [u8; 32]) -> Result<NodeCert, CertError> {
    let err = |source| CertError { host, source };
    let key_pair = match kind {
        KeyKind::Ed25519 => {
            let mut pkcs8 = Vec::with_capacity(48);
            pkcs8.extend_from_slice(&ED25519_PKCS8_PREFIX);
            pkcs8.extend_from_slice(&seed);
            KeyPair::from_pkcs8_der_and_sign_algo(
                &PrivatePkcs8KeyDer::from(pkcs8),
                &rcgen::PKCS_ED25519,
            )
            .map_err(err)?
        }
        KeyKind::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(err)?,
        KeyKind::Rsa4096 => rsa_key_pair().map_err(err)?,
    };
    let cert = params(host).self_signed(&key_pair).map_err(err)?;
    let der = cert.der().clone();
    let id = PeerId::from_certificate_der(&der);
    Ok(NodeCert {
        der,
        key: PrivatePkcs8KeyDer::from(key_pair.serialize_der()),
        id,
    })
}

/// The process's RSA-4096 key (PKCS#8 DER), made on first use.
///
/// Making an RSA-4096 key takes seconds (minutes for a thousand nodes), so all RSA nodes of
/// a process share one key. Each certificate still has its node's own subject and
/// signature, so certificates and peer ids differ per node; only the public key repeats.
static RSA_KEY: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();

/// An RSA-4096 key pair that rcgen signs with SHA-512 (through ring).
fn rsa_key_pair() -> Result<KeyPair, rcgen::Error> {
    let der = RSA_KEY
        .get_or_init(|| {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 4096).ok()?;
            Some(key.to_pkcs8_der().ok()?.as_bytes().to_vec())
        })
        .as_ref()
        .ok_or(rcgen::Error::KeyGenerationUnavailable)?;
    KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(der.clone()),
        &rcgen::PKCS_RSA_SHA512,
    )
}

/// The certificate fields chainweb's `Network.X509.SelfSigned` sets.
fn params(host: IpAddr) -> CertificateParams {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, host.to_string());
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.subject_alt_names = Vec::new();
    p.serial_number = Some(SerialNumber::from(vec![1]));
    // 365 days, like chainweb, but fixed so that certificates are reproducible.
    p.not_before = rcgen::date_time_ymd(2025, 11, 15);
    p.not_after = rcgen::date_time_ymd(2026, 11, 15);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DataEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 3, 0, 1));

    #[test]
    fn ed25519_is_reproducible_and_id_is_fingerprint() {
        let a = generate(KeyKind::Ed25519, HOST, [7; 32]).unwrap();
        let b = generate(KeyKind::Ed25519, HOST, [7; 32]).unwrap();
        let c = generate(KeyKind::Ed25519, HOST, [8; 32]).unwrap();
        assert_eq!(a.der, b.der);
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(a.id, PeerId::from_certificate_der(&a.der));
    }

    #[test]
    fn ecdsa_certificates_are_made() {
        let a = generate(KeyKind::EcdsaP256, HOST, [0; 32]).unwrap();
        assert_eq!(a.id, PeerId::from_certificate_der(&a.der));
    }

    #[test]
    fn rsa_certificates_are_4096_bit_sha512() {
        let a = generate(KeyKind::Rsa4096, HOST, [0; 32]).unwrap();
        assert_eq!(a.id, PeerId::from_certificate_der(&a.der));
        let der = a.der.as_ref();
        let has = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
        // sha512WithRSAEncryption (1.2.840.113549.1.1.13).
        assert!(has(&[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d
        ]));
        // A 4096-bit modulus: INTEGER of 513 bytes (leading zero), exponent 65537.
        assert!(has(&[0x02, 0x82, 0x02, 0x01, 0x00]));
        assert!(has(&[0x02, 0x03, 0x01, 0x00, 0x01]));
    }

    #[test]
    fn certificate_has_chainweb_shape() {
        for kind in [KeyKind::Ed25519, KeyKind::EcdsaP256, KeyKind::Rsa4096] {
            let cert = generate(kind, HOST, [1; 32]).unwrap();
            let der = cert.der.as_ref();
            let has = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
            // CN = 127.3.0.1
            assert!(has(b"127.3.0.1"));
            // No subjectAltName extension (OID 2.5.29.17).
            assert!(!has(&[0x06, 0x03, 0x55, 0x1d, 0x11]));
            // basicConstraints (2.5.29.19) with cA TRUE and pathLen 0.
            assert!(has(&[0x06, 0x03, 0x55, 0x1d, 0x13]));
            assert!(has(&[0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00]));
            // extKeyUsage (2.5.29.37) with serverAuth and clientAuth.
            assert!(has(&[0x06, 0x03, 0x55, 0x1d, 0x25]));
            assert!(has(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]));
            assert!(has(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02]));
            // keyUsage (2.5.29.15): digitalSignature, nonRepudiation, keyEncipherment,
            // dataEncipherment, keyAgreement, keyCertSign (bits 0-5).
            assert!(has(&[0x06, 0x03, 0x55, 0x1d, 0x0f]));
            assert!(has(&[0x03, 0x02, 0x02, 0xfc]), "{kind:?}");
            // X.509 v3, serial 1.
            assert!(has(&[0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01]));
        }
    }
}
