//! [`ContractServer`]: the built-in contract server (`sio-mutants`) for the library's users.

/// The built-in contract server (`conformance mutants serve`) in this process, on a free
/// loopback port: the behaviour docs/contract.md defines, clean or with one deliberate defect
/// (a mutant). For trying the runner, and for tests that need a server that conforms (or
/// provably does not).
#[derive(Debug)]
pub struct ContractServer(sio_mutants::server::RunningServer);

impl ContractServer {
    /// The clean server, with the official suites' timers (ping interval 300 ms, ping timeout
    /// 200 ms, connect timeout 1 s: give the runner `.connect_timeout(Duration::from_secs(1))`).
    ///
    /// # Errors
    /// No loopback port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        Self::with_mutant("none").await
    }

    /// The server with the defect `mutant` (`conformance mutants list`; `none` is the clean
    /// server).
    ///
    /// # Errors
    /// An unknown mutant name, or no loopback port can be bound.
    pub async fn with_mutant(mutant: &str) -> std::io::Result<Self> {
        let mutant = parse_mutant(mutant)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        sio_mutants::server::start("127.0.0.1:0", sio_mutants::Settings::with_mutant(mutant))
            .await
            .map(Self)
    }

    /// Its URL, `http://127.0.0.1:PORT` (the suites add their paths).
    #[must_use]
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// Stops it and waits until it has.
    pub async fn stop(self) {
        self.0.stop().await;
    }
}

/// Parses a mutant name for clap.
///
/// # Errors
/// An unknown name, with the list of known ones.
pub fn parse_mutant(name: &str) -> Result<sio_mutants::Mutant, String> {
    sio_mutants::Mutant::from_name(name).ok_or_else(|| {
        let names: Vec<_> = sio_mutants::Mutant::ALL.iter().map(|m| m.name()).collect();
        format!("unknown mutant `{name}`; known: {}", names.join(", "))
    })
}
