//! `Result<T, E>`: `Ok` is cached, `Err` is returned and not cached; `?` works in the body.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::cached;

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
struct ParseError(String);

#[cached(ttl = "5m")]
async fn number(text: String) -> Result<i64, Arc<ParseError>> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    let n: i64 = text
        .parse()
        .map_err(|e| Arc::new(ParseError(format!("{e}"))))?;
    if n < 0 {
        return Err(Arc::new(ParseError("negative".into())));
    }
    Ok(n)
}

#[cached]
fn checked(n: i32) -> Result<i32, String> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    let n = n.checked_mul(2).ok_or("overflow")?;
    Ok(n)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(number("12".into()).await.unwrap(), 12);
    assert_eq!(number("12".into()).await.unwrap(), 12);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert!(number("-1".into()).await.is_err());
    assert_eq!(number("-1".into()).await.unwrap_err().0, "negative");
    assert_eq!(CALLS.load(Ordering::SeqCst), 3, "errors are not cached");

    assert_eq!(checked(4), Ok(8));
    assert_eq!(checked(4), Ok(8));
    assert_eq!(checked(i32::MAX), Err("overflow".to_string()));
    assert_eq!(CALLS.load(Ordering::SeqCst), 5);
}
