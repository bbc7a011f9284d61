//! Codes: the corrected clock and the user's offset, time-based codes, and HOTP steps.

use super::{AuthError, Authenticator, CodeClock, CodeInfo, HotpCode, Result};
use crate::clock;
use crate::otp::OtpKind;
use crate::time::UnixTime;
use crate::vault::Setting;

impl Authenticator {
    /// The time as codes see it: the clock plus the user's stored offset.
    pub fn now(&self) -> Result<UnixTime> {
        let offset = self.state()?.offset;
        Ok(clock::corrected(self.clock.now(), offset))
    }

    pub fn clock_offset(&self) -> Result<i64> {
        Ok(self.state()?.offset)
    }

    /// Stores the correction (seconds added to the device clock) used for every code.
    pub fn set_clock_offset(&self, offset: i64) -> Result<()> {
        let offset = clock::check_offset(offset)?;
        let mut state = self.state()?;
        state
            .vault
            .set_setting(Setting::ClockOffset, &offset.to_string())?;
        state.offset = offset;
        state.touch();
        Ok(())
    }

    /// Current codes of the time-based accounts matching `query` (all when `None`), at the
    /// corrected time or at `at` (no offset applied; not before 1970) when given.
    pub fn codes(&self, query: Option<&str>, at: Option<UnixTime>) -> Result<Vec<CodeInfo>> {
        let at = at.map(clock::check_code_time).transpose()?;
        let state = self.state()?;
        let device_now = self.clock.now();
        let mut out = Vec::with_capacity(state.accounts.len());
        for t in state.timed() {
            let (l, generator, period) = (t.loaded, t.generator, t.period);
            if query.is_some_and(|q| !l.account.matches(q)) {
                continue;
            }
            let clock_offset = match at {
                Some(_) => CodeClock::User(0),
                None => state.code_offset(l),
            };
            let t = at.unwrap_or_else(|| clock::corrected(device_now, clock_offset.seconds()));
            let code = generator.totp(t)?;
            out.push(CodeInfo {
                id: l.account.id.clone(),
                issuer: l.account.issuer.clone(),
                label: l.account.label.clone(),
                kind: generator.params().kind.into(),
                code: code.code,
                valid_for: code.valid_for,
                next_code: code.next_code,
                period,
                clock_offset,
            });
        }
        Ok(out)
    }

    /// Advances a HOTP account's counter (persisted first, so a crash never reuses a code) and
    /// returns the code for the counter value it had.
    pub fn next_hotp(&self, id_or_prefix: &str) -> Result<HotpCode> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let loaded = &state.accounts[index];
        let (Some(OtpKind::Hotp { .. }), Some(generator)) = (
            loaded.account.otp.as_ref().map(|o| o.params.kind),
            loaded.generator.clone(),
        ) else {
            return Err(AuthError::NotCounterBased {
                name: loaded.account.display_name(),
            });
        };
        let id = loaded.account.id.clone();
        let now = self.clock.now();
        let (counter, updated) = state.vault.advance_hotp(&id, now)?;
        let code = generator.code_for_counter(counter);
        state.accounts[index].account = updated;
        self.changed(&mut state);
        Ok(HotpCode {
            id,
            code: code.to_string(),
            counter,
        })
    }
}
