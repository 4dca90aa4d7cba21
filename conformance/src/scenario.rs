//! scenario (work in progress).
