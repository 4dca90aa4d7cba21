//! The client's side of the Engine.IO heartbeat: [`Heartbeat`].

use crate::EngineIo;
use crate::engineio::{Packet, PacketBuf};
use core::time::Duration;
use std::time::Instant;

/// The client's side of the Engine.IO heartbeat on its own, for drivers that need only that
/// part of [`Session`](super::Session) (which uses it): a proxy, a test harness, a runner
/// that judges a server. v4: the server pings, the client answers each ping with a pong and
/// gives up when the server is silent for `pingInterval + pingTimeout`; v3: the client pings
/// every `pingInterval` and gives up when a pong is not back within `pingTimeout`.
///
/// ```
/// use sio_codec::engineio::Packet;
/// use sio_codec::engineio::client::{Due, Heard, Heartbeat};
/// use sio_codec::EngineIo;
/// use std::time::{Duration, Instant};
///
/// let t0 = Instant::now();
/// let (interval, timeout) = (Duration::from_secs(25), Duration::from_secs(20));
///
/// // v4: a ping gets its pong; silence ends the session.
/// let mut v4 = Heartbeat::new(EngineIo::V4);
/// v4.start(interval, Some(timeout), t0);
/// let Heard::Answer(pong) = v4.handle_packet(&Packet::Ping(None), t0) else { panic!() };
/// assert_eq!(pong.as_packet(), Packet::Pong(None));
/// assert_eq!(v4.poll_timeout(), Some(t0 + interval + timeout));
/// assert_eq!(v4.handle_timeout(t0 + interval + timeout), Some(Due::Timeout));
///
/// // v3: the client pings; a harness that judges the server itself passes no timeout.
/// let mut v3 = Heartbeat::new(EngineIo::V3);
/// v3.start(interval, None, t0);
/// let Some(Due::Ping(ping)) = v3.handle_timeout(t0 + interval) else { panic!() };
/// assert_eq!(ping.as_packet(), Packet::Ping(None));
/// assert!(matches!(v3.handle_packet(&Packet::Pong(None), t0 + interval), Heard::Heartbeat));
/// assert_eq!(v3.poll_timeout(), Some(t0 + interval * 2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    revision: EngineIo,
    interval: Duration,
    /// `None`: never gives up (the caller judges silence itself).
    timeout: Option<Duration>,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not started, or stopped.
    Off,
    /// v4: the server must be heard from by then (never, without a timeout).
    HeardBy(Option<Instant>),
    /// v3: the next ping goes out at `next_ping`; the pong of the last one is due by
    /// `pong_by`.
    Pinging {
        next_ping: Instant,
        pong_by: Option<Instant>,
    },
}

/// What a packet from the server is to the heartbeat ([`Heartbeat::handle_packet`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    /// Heartbeat traffic to answer with this packet (v4: the pong to a ping).
    Answer(PacketBuf),
    /// Heartbeat traffic that needs no answer (v3: the pong to the client's ping).
    Heartbeat,
    /// Anything else (it still counts as hearing from the server).
    Other,
}

/// What time brings ([`Heartbeat::handle_timeout`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due {
    /// v3: send this ping.
    Ping(PacketBuf),
    /// The server was silent (v4) or did not answer a ping (v3) in time: the session is over.
    Timeout,
}

impl Heartbeat {
    /// A heartbeat for a session of `revision`, not started.
    pub fn new(revision: EngineIo) -> Self {
        Self {
            revision,
            interval: Duration::ZERO,
            timeout: None,
            state: State::Off,
        }
    }

    /// Starts (or restarts) at `now` with the open packet's `pingInterval` and
    /// `pingTimeout`; without a timeout it never gives up.
    pub fn start(&mut self, interval: Duration, timeout: Option<Duration>, now: Instant) {
        self.interval = interval;
        self.timeout = timeout;
        self.state = match self.revision {
            EngineIo::V4 => State::HeardBy(self.silence_deadline(now)),
            EngineIo::V3 => State::Pinging {
                next_ping: later(now, interval),
                pong_by: None,
            },
        };
    }

    /// Stops: no timer, no answer.
    pub fn stop(&mut self) {
        self.state = State::Off;
    }

    /// Whether it runs.
    pub fn is_running(&self) -> bool {
        self.state != State::Off
    }

    /// The `pingInterval` it runs with.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The `pingTimeout` it gives up after, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    fn silence_deadline(&self, now: Instant) -> Option<Instant> {
        self.timeout
            .map(|timeout| later(now, self.interval + timeout))
    }

    /// A packet from the server arrived at `now` (any packet shows the server is there).
    pub fn handle_packet(&mut self, packet: &Packet<'_>, now: Instant) -> Heard {
        match self.state {
            State::Off => return Heard::Other,
            State::HeardBy(_) => self.state = State::HeardBy(self.silence_deadline(now)),
            State::Pinging { .. } => {}
        }
        match (self.revision, packet) {
            // The ping's data is not echoed (reference: engine.io-client answers `3`).
            (EngineIo::V4, Packet::Ping(_)) => Heard::Answer(PacketBuf::from(&Packet::Pong(None))),
            (EngineIo::V3, Packet::Pong(_)) => {
                if let State::Pinging { next_ping, .. } = self.state {
                    self.state = State::Pinging {
                        next_ping,
                        pong_by: None,
                    };
                }
                Heard::Heartbeat
            }
            _ => Heard::Other,
        }
    }

    /// The next instant [`Heartbeat::handle_timeout`] must be called at.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Off => None,
            State::HeardBy(deadline) => deadline,
            State::Pinging { next_ping, pong_by } => {
                Some(pong_by.map_or(next_ping, |by| by.min(next_ping)))
            }
        }
    }

    /// Time has come to `now`. After [`Due::Timeout`] the heartbeat is stopped.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Due> {
        match self.state {
            State::HeardBy(Some(deadline)) if now >= deadline => {
                self.stop();
                Some(Due::Timeout)
            }
            State::Pinging {
                pong_by: Some(by), ..
            } if now >= by => {
                self.stop();
                Some(Due::Timeout)
            }
            State::Pinging { next_ping, pong_by } if now >= next_ping => {
                let pong_by = pong_by.or_else(|| self.timeout.map(|t| later(now, t)));
                self.state = State::Pinging {
                    next_ping: later(now, self.interval),
                    pong_by,
                };
                Some(Due::Ping(PacketBuf::from(&Packet::Ping(None))))
            }
            _ => None,
        }
    }
}

/// The longest timer a server can set: JavaScript's timers hold at most `2^31 - 1` ms (about
/// 24.8 days); longer values from the open packet are clamped to it.
pub(super) const MAX_TIMER_MS: u64 = (1 << 31) - 1;

/// `now + duration`, or as late as the clock goes (no overflow panic).
pub(super) fn later(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration)
        .or_else(|| now.checked_add(Duration::from_millis(MAX_TIMER_MS)))
        .unwrap_or(now)
}
