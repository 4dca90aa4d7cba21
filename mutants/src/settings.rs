//! Server settings: the contract's environment variables (docs/contract.md §1) and the mutant.

use super::Mutant;
use std::time::Duration;

/// The built-in server's `maxPayload` unless `MAX_HTTP_BUFFER_SIZE` says otherwise.
pub(crate) const DEFAULT_MAX_PAYLOAD: usize = 16 * 1024;

/// How the built-in server is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Engine.IO `pingInterval` (`PING_INTERVAL`, default 300 ms).
    pub ping_interval: Duration,
    /// Engine.IO `pingTimeout` (`PING_TIMEOUT`, default 200 ms).
    pub ping_timeout: Duration,
    /// Socket.IO connect timeout (`CONNECT_TIMEOUT`, default 1000 ms).
    pub connect_timeout: Duration,
    /// Largest POST body / WebSocket message in bytes, advertised as `maxPayload`
    /// (`MAX_HTTP_BUFFER_SIZE`; default `DEFAULT_MAX_PAYLOAD`, smaller than the contract's
    /// 1 000 000 so that the cases that send `maxPayload + 1` bytes stay fast).
    pub max_payload: usize,
    /// Whether Engine.IO v3 clients are served. On by default here (the contract default is
    /// off): the mutants must be checked by the v3 suites too. `ALLOW_EIO3=0` turns it off.
    pub allow_eio3: bool,
    /// The deliberate defect, [`Mutant::None`] for the clean server.
    pub mutant: Mutant,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            connect_timeout: Duration::from_millis(1000),
            max_payload: DEFAULT_MAX_PAYLOAD,
            allow_eio3: true,
            mutant: Mutant::None,
        }
    }
}

impl Settings {
    /// The defaults with `mutant`.
    pub fn with_mutant(mutant: Mutant) -> Self {
        Self {
            mutant,
            ..Self::default()
        }
    }

    /// The defaults overridden by the environment variables of the contract.
    ///
    /// # Errors
    /// A variable that is set but is not a number (or not `0`/`1` for `ALLOW_EIO3`).
    pub fn from_env(mutant: Mutant) -> Result<Self, String> {
        Self::from_lookup(mutant, |name| std::env::var(name).ok())
    }

    /// [`Settings::from_env`] with any lookup (for tests).
    fn from_lookup(mutant: Mutant, get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut settings = Self::with_mutant(mutant);
        let number = |name: &str| -> Result<Option<u64>, String> {
            get(name)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("{name}={v:?} is not a number"))
                })
                .transpose()
        };
        // Timers between 1 ms and a day: no zero-length loop, no arithmetic overflow.
        let millis = |ms: u64| Duration::from_millis(ms.clamp(1, 86_400_000));
        if let Some(ms) = number("PING_INTERVAL")? {
            settings.ping_interval = millis(ms);
        }
        if let Some(ms) = number("PING_TIMEOUT")? {
            settings.ping_timeout = millis(ms);
        }
        if let Some(ms) = number("CONNECT_TIMEOUT")? {
            settings.connect_timeout = millis(ms);
        }
        if let Some(bytes) = number("MAX_HTTP_BUFFER_SIZE")? {
            settings.max_payload = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        match get("ALLOW_EIO3").as_deref().map(str::trim) {
            None | Some("1") => {}
            Some("0") => settings.allow_eio3 = false,
            Some(other) => return Err(format!("ALLOW_EIO3={other:?}: expected 0 or 1")),
        }
        Ok(settings)
    }

    /// The largest POST body (`websocket` false) or WebSocket message the server accepts:
    /// `maxPayload`, unless the mutant ignores it on that transport.
    pub(crate) fn incoming_limit(&self, websocket: bool) -> usize {
        let ignored = if websocket {
            Mutant::MaxPayloadIgnoredOnWebsocket
        } else {
            Mutant::MaxPayloadIgnoredOnPolling
        };
        if self.has(ignored) {
            usize::MAX
        } else {
            self.max_payload
        }
    }

    /// Whether the server runs with defect `mutant`.
    pub(crate) fn has(&self, mutant: Mutant) -> bool {
        self.mutant == mutant
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_defaults() {
        let env = |name: &str| match name {
            "PING_INTERVAL" => Some("25000".to_owned()),
            "MAX_HTTP_BUFFER_SIZE" => Some(" 10 ".to_owned()),
            "ALLOW_EIO3" => Some("0".to_owned()),
            _ => None,
        };
        let settings = Settings::from_lookup(Mutant::SlowPing, env).unwrap();
        assert_eq!(settings.ping_interval, Duration::from_secs(25));
        assert_eq!(settings.ping_timeout, Duration::from_millis(200));
        assert_eq!(settings.max_payload, 10);
        assert!(!settings.allow_eio3);
        assert!(settings.has(Mutant::SlowPing));
        let bad = |name: &str| (name == "PING_TIMEOUT").then(|| "soon".to_owned());
        assert!(Settings::from_lookup(Mutant::None, bad).is_err());
    }
}
