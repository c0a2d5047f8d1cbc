//! `CACHE_FLAGS` sits between code defaults and live changes. In the `serial` binary, holding
//! its `SERIAL` lock: it changes the process environment.

use cache_core::{FlagMode, Flags};

use crate::SERIAL;

#[test]
fn env_overrides_code_defaults_and_a_bad_entry_fails_startup_naming_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: every other test of this binary waits for `SERIAL`, so no other thread reads the
    // environment.
    unsafe { std::env::set_var("CACHE_FLAGS", "chains=on,likes=25%,users=shadow,*=off") };
    let flags = Flags::parse("chains=off, posts=on")
        .unwrap()
        .with_env()
        .unwrap();
    assert_eq!(flags.mode("chains"), FlagMode::On);
    assert_eq!(flags.mode("likes"), FlagMode::Percent(25));
    assert_eq!(flags.mode("users"), FlagMode::Shadow);
    assert_eq!(
        flags.mode("posts"),
        FlagMode::On,
        "a code entry beats the env's global default"
    );
    assert_eq!(flags.mode("other"), FlagMode::Off);

    // SAFETY: as above.
    unsafe { std::env::set_var("CACHE_FLAGS", "chains=on, likes=lots") };
    let err = Flags::from_env().unwrap_err();
    assert_eq!(err.entry, "likes=lots");
    assert!(err.to_string().contains("likes=lots"), "{err}");
    // SAFETY: as above.
    unsafe { std::env::remove_var("CACHE_FLAGS") };
    assert_eq!(Flags::from_env().unwrap().mode("anything"), FlagMode::On);
}
