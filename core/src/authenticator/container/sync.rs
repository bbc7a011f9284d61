//! Syncing a container: the list of tokens this phone holds out, the server's delivery back,
//! applied in one vault transaction (added and re-keyed tokens, counters, takeovers, removals),
//! then the push tokens enrolled (each a network call of its own).
//!
//! Why a crash loses nothing: every token the vault links to the container is listed, so the
//! server re-keys only tokens the phone does not hold; if the phone dies before the
//! transaction commits, those tokens are still not held, so the next sync lists them as
//! missing again and the server delivers them again. After a rollover onto this phone
//! (`rekey_pending`), the server re-keys everything at the next sync whatever is listed, so the
//! list is left empty until a sync has been applied: a crash in between is repaired the same
//! way. A push token is linked only once its registration succeeded, so a failed or interrupted
//! one is delivered again with a fresh enrollment credential.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::account::AccountId;
use crate::authenticator::{AccountInfo, Authenticator, Result};
use crate::container::sync::{ClientToken, client_dict, parse_delivery};
use crate::container::{ContainerError, ContainerKey, ContainerServer, TokenType};
use crate::log::LogLevel;
use crate::otp::OtpKind;
use crate::push::PushEnrollment;
use crate::vault::SyncChange;

use super::{PoliciesInfo, otp_token_type, stored_container};
use crate::time::UnixTime;

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub serial: String,
    /// Accounts made for tokens new to this phone (push tokens among them once enrolled).
    pub added: Vec<AccountInfo>,
    /// Accounts whose token the server delivered again with a new secret.
    pub rekeyed: Vec<AccountInfo>,
    /// Accounts this phone already had that now belong to the container.
    pub taken_over: Vec<AccountInfo>,
    /// Tokens the phone keeps as they were (HOTP counters brought forward).
    pub unchanged: usize,
    /// Accounts removed because the server no longer lists their token.
    pub removed: Vec<String>,
    /// Tokens that could not be taken in (each says why); the next sync tries again.
    pub problems: Vec<String>,
    pub policies: PoliciesInfo,
}

/// What the phone listed, to read the answer against.
struct Listing {
    /// Linked token serial -> (account, type).
    linked: HashMap<String, (AccountId, TokenType)>,
    /// Offered for takeover by serial.
    by_serial: HashMap<String, (AccountId, TokenType)>,
    /// Offered for takeover by codes.
    by_codes: Vec<([String; 2], AccountId, TokenType)>,
    tokens: Vec<ClientToken>,
}

impl Authenticator {
    /// Syncs every container; one failing does not stop the others. For the app's start-up.
    pub async fn sync_containers(
        &self,
        push_token: Option<&str>,
    ) -> Result<Vec<(String, std::result::Result<SyncReport, String>)>> {
        let serials: Vec<String> = self
            .state()?
            .vault
            .containers()?
            .into_iter()
            .map(|c| c.serial)
            .collect();
        let mut out = Vec::new();
        for serial in serials {
            let result = self
                .sync_container(&serial, push_token)
                .await
                .map_err(|e| e.to_string());
            out.push((serial, result));
        }
        Ok(out)
    }

    /// Syncs one container: see the module's documentation.
    pub async fn sync_container(
        &self,
        serial: &str,
        push_token: Option<&str>,
    ) -> Result<SyncReport> {
        let now = self.clock.now();
        let (server, key, next_key, listing, client) = {
            let state = self.state()?;
            let stored = stored_container(&state.vault, serial)?;
            let (pkcs8, next) = state.vault.container_keys(serial)?;
            let key = ContainerKey::from_pkcs8(&pkcs8)
                .map_err(|reason| ContainerError::Key { reason })?;
            let next = next
                .map(|n| ContainerKey::from_pkcs8(&n))
                .transpose()
                .map_err(|reason| ContainerError::Key { reason })?;
            let listing = listing(&state, &stored, now)?;
            let server = ContainerServer {
                serial: stored.serial.clone(),
                url: stored.url.clone(),
                ssl_verify: stored.ssl_verify,
            };
            (server, key, next, listing, self.client(&state))
        };
        if listing.tokens.is_empty() {
            self.log.write(LogLevel::Info, "container", || {
                format!(
                    "container {serial}: listing no token, so the server delivers (and re-keys) all"
                )
            });
        }
        let dict = client_dict(serial, &listing.tokens);
        let mut answer = client.container_sync(&server, &key, &dict, now).await;
        if let (Err(ContainerError::SignatureRejected { .. }), Some(next)) = (&answer, &next_key) {
            // A renewal's key that the server took before this phone could record it.
            answer = client.container_sync(&server, next, &dict, now).await;
            if answer.is_ok() {
                self.state()?.vault.promote_container_next_key(serial)?;
            }
        }
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                self.state()?
                    .vault
                    .set_container_error(serial, Some(&e.to_string()))?;
                return Err(e.into());
            }
        };
        let delivery = parse_delivery(serial, &answer.plaintext)?;
        let mut report = SyncReport {
            serial: serial.to_owned(),
            added: Vec::new(),
            rekeyed: Vec::new(),
            taken_over: Vec::new(),
            unchanged: 0,
            removed: Vec::new(),
            problems: Vec::new(),
            policies: answer.policies.into(),
        };
        let mut changes = Vec::new();
        let mut kept: HashSet<String> = HashSet::new();
        let mut pushes: Vec<(PushEnrollment, String, Option<AccountId>)> = Vec::new();
        let (mut rekeyed_ids, mut taken_ids) = (Vec::new(), Vec::new());
        {
            let state = self.state()?;
            let account = |id: &AccountId| state.accounts.iter().find(|l| l.account.id == *id);
            for (n, uri) in delivery.add.iter().enumerate() {
                let lower = uri.get(..24).unwrap_or(uri).to_ascii_lowercase();
                if lower.starts_with("otpauth://pipush/") || lower.starts_with("pia://pipush/") {
                    match PushEnrollment::parse(uri, now, now) {
                        Ok(e) => {
                            kept.insert(e.serial.clone());
                            let held = state.push_account(&e.serial).map(|(a, _)| a.id.clone());
                            let attach = held
                                .clone()
                                .filter(|id| account(id).is_some_and(|l| l.account.otp.is_some()));
                            if let Some(id) = held {
                                changes.push(SyncChange::DetachPush { id });
                            }
                            let serial = e.serial.clone();
                            pushes.push((e, serial, attach));
                        }
                        Err(e) => report.problems.push(format!("tokens.add[{n}]: {e}")),
                    }
                    continue;
                }
                let token_type = if lower.starts_with("otpauth://daypassword/") {
                    TokenType::DayPassword
                } else if lower.starts_with("otpauth://hotp/") {
                    TokenType::Hotp
                } else {
                    TokenType::Totp
                };
                let new = match crate::uri::parse_otpauth(uri) {
                    Ok(new) => new,
                    Err(e) => {
                        report.problems.push(format!("tokens.add[{n}]: {e}"));
                        continue;
                    }
                };
                let Some(token_serial) = new
                    .extra_params
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("serial"))
                    .map(|(_, v)| v.clone())
                else {
                    report
                        .problems
                        .push(format!("tokens.add[{n}]: the URI has no serial"));
                    continue;
                };
                kept.insert(token_serial.clone());
                let held = listing
                    .linked
                    .get(&token_serial)
                    .or_else(|| listing.by_serial.get(&token_serial))
                    .map(|(id, _)| id.clone());
                match held {
                    Some(id) => {
                        rekeyed_ids.push(id.clone());
                        changes.push(SyncChange::Rekey {
                            id,
                            otp: new.otp,
                            token_serial,
                            token_type,
                        });
                    }
                    None => changes.push(SyncChange::Add {
                        new,
                        token_serial,
                        token_type,
                    }),
                }
            }
            for update in &delivery.update {
                kept.insert(update.serial.clone());
                if let Some((id, _)) = listing.linked.get(&update.serial) {
                    report.unchanged += 1;
                    let local = account(id).and_then(|l| l.account.otp.as_ref());
                    if let (Some(OtpKind::Hotp { counter }), Some(server)) =
                        (local.map(|o| o.params.kind), update.counter)
                        && server > counter
                    {
                        changes.push(SyncChange::Counter {
                            id: id.clone(),
                            counter: server,
                        });
                    }
                    continue;
                }
                let matched = update
                    .otp
                    .as_ref()
                    .and_then(|otp| {
                        listing
                            .by_codes
                            .iter()
                            .find(|(codes, _, _)| otp.as_slice() == codes.as_slice())
                    })
                    .map(|(_, id, t)| (id.clone(), *t))
                    .or_else(|| listing.by_serial.get(&update.serial).cloned());
                if let Some((id, token_type)) = matched {
                    taken_ids.push(id.clone());
                    changes.push(SyncChange::Link {
                        id,
                        token_serial: update.serial.clone(),
                        token_type,
                    });
                }
            }
            for (token_serial, (id, _)) in &listing.linked {
                if !kept.contains(token_serial) {
                    if let Some(l) = account(id) {
                        report.removed.push(l.account.display_name());
                    }
                    changes.push(SyncChange::Remove { id: id.clone() });
                }
            }
        }
        {
            let mut state = self.state()?;
            let added = state.vault.apply_container_sync(
                serial,
                changes,
                &answer.policies,
                self.clock.now(),
            )?;
            state.reload()?;
            self.changed(&mut state);
            let info = |id: &AccountId| {
                state
                    .accounts
                    .iter()
                    .find(|l| l.account.id == *id)
                    .map(|l| state.info(&l.account))
            };
            report.added = added.iter().filter_map(|a| info(&a.id)).collect();
            report.rekeyed = rekeyed_ids.iter().filter_map(info).collect();
            report.taken_over = taken_ids.iter().filter_map(info).collect();
        }
        for (enrollment, token_serial, attach) in pushes {
            let attach_text = attach.as_ref().map(|id| id.to_string());
            match self
                .enroll_push(enrollment, push_token, attach_text.as_deref())
                .await
            {
                Ok(account) => {
                    self.state()?.vault.link_container_token(
                        &account.id,
                        serial,
                        &token_serial,
                        TokenType::Push,
                    )?;
                    report.added.push(account);
                }
                Err(e) => report.problems.push(format!("{token_serial}: {e}")),
            }
        }
        self.log.write(LogLevel::Info, "container", || {
            format!(
                "container {serial} synced: {} added, {} re-keyed, {} taken over, {} kept, {} removed, {} problem(s)",
                report.added.len(),
                report.rekeyed.len(),
                report.taken_over.len(),
                report.unchanged,
                report.removed.len(),
                report.problems.len()
            )
        });
        Ok(report)
    }
}

/// The tokens to list: every linked one (none while a rollover's re-key is pending), and on
/// the first sync, when the server allows a takeover, this phone's other accounts.
fn listing(
    state: &crate::authenticator::state::State,
    stored: &crate::vault::StoredContainer,
    now: UnixTime,
) -> Result<Listing> {
    let mut listing = Listing {
        linked: HashMap::new(),
        by_serial: HashMap::new(),
        by_codes: Vec::new(),
        tokens: Vec::new(),
    };
    for t in &stored.tokens {
        listing
            .linked
            .insert(t.token_serial.clone(), (t.account_id.clone(), t.token_type));
        if !stored.rekey_pending {
            listing.tokens.push(ClientToken::Listed {
                serial: t.token_serial.clone(),
                token_type: t.token_type,
            });
        }
    }
    if stored.synced_once || !stored.policies.initially_add_tokens {
        return Ok(listing);
    }
    let in_any: HashSet<AccountId> = state
        .vault
        .containers()?
        .iter()
        .flat_map(|c| c.tokens.iter().map(|t| t.account_id.clone()))
        .collect();
    for l in &state.accounts {
        let a = &l.account;
        if in_any.contains(&a.id) {
            continue;
        }
        if let Some(push) = &a.push {
            listing
                .by_serial
                .insert(push.serial.clone(), (a.id.clone(), TokenType::Push));
            listing.tokens.push(ClientToken::Listed {
                serial: push.serial.clone(),
                token_type: TokenType::Push,
            });
            continue;
        }
        let Some(token_type) = otp_token_type(a) else {
            continue;
        };
        let serial = a
            .extra_params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("serial"))
            .map(|(_, v)| v.clone());
        if let Some(serial) = serial {
            listing
                .by_serial
                .insert(serial.clone(), (a.id.clone(), token_type));
            listing
                .tokens
                .push(ClientToken::Listed { serial, token_type });
            continue;
        }
        let (Some(generator), Some(otp)) = (&l.generator, &a.otp) else {
            continue;
        };
        let codes = match otp.params.kind {
            OtpKind::Hotp { counter } => [
                generator.code_for_counter(counter).as_str().to_owned(),
                generator
                    .code_for_counter(counter.saturating_add(1))
                    .as_str()
                    .to_owned(),
            ],
            OtpKind::Totp { period } => match (
                generator.code_at(now),
                generator.code_at(now + Duration::from_secs(u64::from(period))),
            ) {
                (Ok(a), Ok(b)) => [a.as_str().to_owned(), b.as_str().to_owned()],
                _ => continue,
            },
            OtpKind::Steam { .. } => continue,
        };
        listing
            .by_codes
            .push((codes.clone(), a.id.clone(), token_type));
        listing
            .tokens
            .push(ClientToken::ByCodes { token_type, codes });
    }
    Ok(listing)
}
