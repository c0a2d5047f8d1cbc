//! Redis URLs: parsing and redaction. `redis://`, `rediss://` (TLS), `redis://user:pass@host/db`.

use std::fmt;

use crate::error::Error;

/// A parsed Redis URL. Its `Debug` and `Display` show the password as `***`.
///
/// ```
/// use cache_redis::RedisUrl;
/// let url = RedisUrl::parse("rediss://app:hunter2@cache.internal:6380/2").unwrap();
/// assert!(url.is_tls());
/// assert_eq!(url.to_string(), "rediss://app:***@cache.internal:6380/2");
/// assert!(!format!("{url:?}").contains("hunter2"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    url: ::url::Url,
}

impl RedisUrl {
    /// Parses and checks a URL: scheme `redis` or `rediss`, a host, an optional numeric database.
    pub fn parse(raw: &str) -> Result<RedisUrl, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: redact_raw(raw),
            reason: reason.to_string(),
            source: None,
        };
        let url = ::url::Url::parse(raw).map_err(|source| Error::InvalidUrl {
            url: redact_raw(raw),
            reason: "it does not parse".to_string(),
            source: Some(source),
        })?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(invalid("the scheme must be redis:// or rediss://"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("a host is required"));
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u16>().is_err() {
            return Err(invalid("the path must be a database number"));
        }
        Ok(RedisUrl { url })
    }

    /// `true` for `rediss://`.
    pub fn is_tls(&self) -> bool {
        self.url.scheme() == "rediss"
    }

    /// `host:port` (port 6379 when the URL has none).
    pub fn address(&self) -> String {
        format!(
            "{}:{}",
            self.url.host_str().unwrap_or_default(),
            self.url.port().unwrap_or(6379)
        )
    }

    /// The same URL (credentials, TLS, database) for the node at `host:port`, as `CLUSTER
    /// NODES` names it (an IPv6 host without brackets); `None` if the host is not valid.
    pub(crate) fn at(&self, host: &str, port: u16) -> Option<RedisUrl> {
        let mut url = self.url.clone();
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        url.set_host(Some(&host)).ok()?;
        url.set_port(Some(port)).ok()?;
        Some(RedisUrl { url })
    }

    /// The URL with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        shown.to_string()
    }

    /// The full URL, password included: only for handing to the client library.
    pub(crate) fn expose(&self) -> &str {
        self.url.as_str()
    }

    /// The password as written in the URL and percent-decoded, for scrubbing messages.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let Some(raw) = self.url.password() else {
            return Vec::new();
        };
        let decoded = percent_decode(raw);
        vec![raw.to_string(), decoded]
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.redacted())
    }
}

/// Best-effort redaction of a string that did not parse: everything before the last `@` of the
/// authority is hidden.
pub(crate) fn redact_raw(raw: &str) -> String {
    let (scheme, rest) = match raw.find("://") {
        Some(at) => raw.split_at(at + 3),
        None => ("", raw),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}***{}{tail}", &authority[at..]),
        None => raw.to_string(),
    }
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        for raw in [
            "redis://127.0.0.1",
            "redis://127.0.0.1:7000/3",
            "redis://user:pass@host/1",
            "redis://:pass@host",
            "rediss://host:6380",
        ] {
            RedisUrl::parse(raw).unwrap();
        }
    }

    #[test]
    fn rejects_other_schemes_and_bad_databases_without_echoing_passwords() {
        for raw in [
            "http://u:sekrit@host",
            "redis://u:sekrit@host/notanumber",
            "redis://u:sekrit@",
        ] {
            let err = RedisUrl::parse(raw).unwrap_err();
            assert!(!err.to_string().contains("sekrit"), "{err}");
            assert!(!format!("{err:?}").contains("sekrit"), "{err:?}");
        }
    }

    #[test]
    fn at_keeps_credentials_and_scheme_for_another_node() {
        let seed = RedisUrl::parse("rediss://app:pw@10.0.0.1:7000").unwrap();
        let other = seed.at("10.0.0.2", 7001).unwrap();
        assert_eq!(other.expose(), "rediss://app:pw@10.0.0.2:7001");
        assert_eq!(seed.at("::1", 7002).unwrap().address(), "[::1]:7002");
    }

    #[test]
    fn redaction_and_secrets() {
        let url = RedisUrl::parse("redis://me:p%40ss@h:1/2").unwrap();
        assert_eq!(url.redacted(), "redis://me:***@h:1/2");
        assert_eq!(
            url.secrets(),
            vec!["p%40ss".to_string(), "p@ss".to_string()]
        );
        assert_eq!(url.address(), "h:1");
        assert_eq!(redact_raw("x://a:b@c/d"), "x://***@c/d");
        assert_eq!(redact_raw("no-at-all"), "no-at-all");
    }
}
