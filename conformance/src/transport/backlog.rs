//! A bounded channel for what a connection receives: the reader (the WebSocket reader task or
//! the polling loop) keeps reading whatever arrives, so the server is never blocked, but once
//! the items not yet taken by the engine exceed a count or a byte cap it keeps no more and
//! only counts them. The engine learns it with [`BacklogReceiver::take_overflow`] and makes it
//! a finding of the step that waits next.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc::{self, error::TryRecvError};

/// What was left out because the backlog was full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overflow {
    /// Items left out.
    pub frames: u64,
    /// Their bytes.
    pub bytes: u64,
}

#[derive(Debug, Default)]
struct State {
    frames: usize,
    bytes: usize,
    dropped: Overflow,
}

#[derive(Debug)]
struct Shared {
    max_frames: usize,
    max_bytes: usize,
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The receiver is gone: nobody will read what is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// The sending half.
#[derive(Debug)]
pub struct BacklogSender<T> {
    tx: mpsc::UnboundedSender<(T, usize)>,
    shared: Arc<Shared>,
}

/// The receiving half.
#[derive(Debug)]
pub struct BacklogReceiver<T> {
    rx: mpsc::UnboundedReceiver<(T, usize)>,
    shared: Arc<Shared>,
}

/// A channel that holds at most `max_frames` items and `max_bytes` bytes (an item bigger than
/// `max_bytes` on its own is still taken when the channel is empty).
pub fn channel<T>(max_frames: usize, max_bytes: usize) -> (BacklogSender<T>, BacklogReceiver<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        max_frames: max_frames.max(1),
        max_bytes,
        state: Mutex::new(State::default()),
    });
    (
        BacklogSender {
            tx,
            shared: shared.clone(),
        },
        BacklogReceiver { rx, shared },
    )
}

impl<T> BacklogSender<T> {
    /// Queues `item` of `size` bytes if the backlog has room, else counts it as left out.
    /// `Err` when the receiver is gone.
    pub fn send(&self, item: T, size: usize) -> Result<(), Closed> {
        if self.tx.is_closed() {
            return Err(Closed);
        }
        {
            let mut state = self.shared.state();
            let full = state.frames >= self.shared.max_frames
                || (state.frames > 0 && state.bytes + size > self.shared.max_bytes);
            if full {
                state.dropped.frames += 1;
                state.dropped.bytes += size as u64;
                return Ok(());
            }
            state.frames += 1;
            state.bytes += size;
        }
        self.tx.send((item, size)).map_err(|_| Closed)
    }

    /// Queues `item` whatever the backlog holds (the last item of a connection: its end).
    pub fn send_always(&self, item: T, size: usize) -> Result<(), Closed> {
        {
            let mut state = self.shared.state();
            state.frames += 1;
            state.bytes += size;
        }
        self.tx.send((item, size)).map_err(|_| Closed)
    }
}

impl<T> BacklogReceiver<T> {
    fn release(&self, size: usize) {
        let mut state = self.shared.state();
        state.frames = state.frames.saturating_sub(1);
        state.bytes = state.bytes.saturating_sub(size);
    }

    /// Next item, `None` once the sender is gone and everything was taken. Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        let (item, size) = self.rx.recv().await?;
        self.release(size);
        Some(item)
    }

    /// Next item if one is queued.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let (item, size) = self.rx.try_recv()?;
        self.release(size);
        Ok(item)
    }

    /// Items and bytes queued now.
    pub fn held(&self) -> (usize, usize) {
        let state = self.shared.state();
        (state.frames, state.bytes)
    }

    /// What was left out since the last call, if anything.
    pub fn take_overflow(&self) -> Option<Overflow> {
        let mut state = self.shared.state();
        let dropped = std::mem::take(&mut state.dropped);
        (dropped.frames > 0).then_some(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_backlog_counts_instead_of_keeping() {
        let (tx, mut rx) = channel::<u32>(3, 100);
        for i in 0..10 {
            tx.send(i, 10).unwrap();
        }
        assert_eq!(rx.held(), (3, 30));
        assert_eq!(
            rx.take_overflow(),
            Some(Overflow {
                frames: 7,
                bytes: 70
            })
        );
        assert_eq!(rx.take_overflow(), None);
        assert_eq!(rx.try_recv().unwrap(), 0);
        assert_eq!(rx.held(), (2, 20));
        tx.send(99, 60).unwrap();
        tx.send(100, 60).unwrap();
        assert_eq!(rx.held(), (3, 80));
        assert_eq!(rx.take_overflow().map(|o| o.frames), Some(1));
        // The end always gets through.
        tx.send_always(7, 0).unwrap();
        let all: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(all, [1, 2, 99, 7]);
        assert_eq!(rx.held(), (0, 0));
    }

    #[test]
    fn one_item_bigger_than_the_byte_cap_passes_alone() {
        let (tx, mut rx) = channel::<u32>(10, 5);
        tx.send(1, 50).unwrap();
        tx.send(2, 1).unwrap();
        assert_eq!(rx.try_recv().unwrap(), 1);
        assert_eq!(rx.take_overflow().map(|o| o.frames), Some(1));
    }
}
