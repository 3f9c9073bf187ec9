//! Secrets: password hashes (argon2id), API keys and session/bearer tokens.
//!
//! Passwords are stored only as argon2id PHC strings. API keys and session tokens are 256-bit random strings shown
//! once to their owner; the store keeps only their SHA-256 (a fast hash is enough for secrets with that much entropy,
//! and it lets the server look a key up by its hash). Key and token prefixes (`grk_`, `grs_`) make a leaked secret easy
//! to recognise in logs and scanners.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

pub const API_KEY_PREFIX: &str = "grk_";
pub const SESSION_PREFIX: &str = "grs_";
/// The cookie that carries a web session.
pub const SESSION_COOKIE: &str = "grassroots_session";
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1_024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("password must have at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("password must have at most {MAX_PASSWORD_CHARS} characters")]
    PasswordTooLong,
    #[error("the system random number generator failed: {0}")]
    Random(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Hashes a new password with argon2id (default parameters: 19 MiB, 2 passes) and a random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooLong);
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    PasswordHash::new(stored)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// The SHA-256 of a secret, in hex: what the store keeps for API keys and tokens.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A newly generated secret: the value to show once and the hash to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSecret {
    pub secret: String,
    pub hash: String,
}

fn new_secret(prefix: &str) -> Result<NewSecret, AuthError> {
    let secret = format!("{prefix}{}", hex(&random_bytes::<32>()?));
    let hash = secret_hash(&secret);
    Ok(NewSecret { secret, hash })
}

/// A new Open311/REST API key.
pub fn new_api_key() -> Result<NewSecret, AuthError> {
    new_secret(API_KEY_PREFIX)
}

/// A new session token, used both as the web session cookie and as a bearer token.
pub fn new_session_token() -> Result<NewSecret, AuthError> {
    new_secret(SESSION_PREFIX)
}

/// A new Open311 request token (for `GET tokens/{token}`); not a secret, just unguessable.
pub fn new_request_token() -> Result<String, AuthError> {
    Ok(hex(&random_bytes::<16>()?))
}

/// The token of an `Authorization: Bearer …` header value.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The session token in a `Cookie:` header value.
pub fn session_from_cookie(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value for a new session: not readable from scripts, sent only to this site.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let stored = hash_password("correct horse").expect("hashes");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &stored));
        assert!(!verify_password("correct horsf", &stored));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_eq!(hash_password("short"), Err(AuthError::PasswordTooShort));
        assert_ne!(hash_password("correct horse").expect("hashes"), stored, "salts differ");
    }

    #[test]
    fn keys_are_random_and_stored_as_hashes() {
        let a = new_api_key().expect("random");
        let b = new_api_key().expect("random");
        assert!(a.secret.starts_with(API_KEY_PREFIX) && a.secret.len() == 4 + 64);
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, secret_hash(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.secret[4..]));
    }

    #[test]
    fn tokens_from_headers() {
        assert_eq!(bearer_token("Bearer grs_abc"), Some("grs_abc"));
        assert_eq!(bearer_token("bearer  grs_abc "), Some("grs_abc"));
        assert_eq!(bearer_token("Basic xyz"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(session_from_cookie("a=1; grassroots_session=grs_x; b=2"), Some("grs_x"));
        assert_eq!(session_from_cookie("a=1"), None);
        assert!(session_cookie("t", 60, false).contains("HttpOnly; SameSite=Lax; Max-Age=60"));
    }
}
