//! placeholder docs
#![no_std]
#![warn(clippy::unwrap_used, clippy::expect_used)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod b64;
mod config;
mod encode;
pub mod engineio;
mod error;
mod hex;
mod jsnum;
mod utf8_bytes;

pub use bytes;
pub use config::DecodeConfig;
pub use encode::{Encode, FrameKind, WireFormat};
pub use error::{DecodeError, ErrorKind};
pub use serde_json;
pub use utf8_bytes::Utf8Bytes;
pub mod socketio;
