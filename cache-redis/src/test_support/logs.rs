//! Capturing what a test logs, to prove a secret never reaches a log line.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Collects everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `test` on a current-thread runtime with every tracing event (down to `TRACE`)
/// captured, and returns the captured text.
///
/// ```
/// let logs = cache_redis::test_support::with_captured_logs(async {
///     tracing::warn!(user = "app", "connecting");
/// });
/// assert!(logs.contains("connecting"));
/// ```
pub fn with_captured_logs(test: impl std::future::Future<Output = ()>) -> String {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || runtime.block_on(test));
    String::from_utf8(logs.0.lock().unwrap().clone()).unwrap()
}
