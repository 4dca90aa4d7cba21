//! matcher (work in progress).
