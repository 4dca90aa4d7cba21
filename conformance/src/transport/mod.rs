//! HTTP long-polling and WebSocket transports (work in progress).
