//! A notification as the phone shells receive it: FCM's `RemoteMessage.data` and APNs'
//! `userInfo` are string maps, taken in as they are, so no shell re-encodes them as JSON.

use serde_json::{Map, Value};

use super::{Authenticator, PushRequestInfo, Result};

impl Authenticator {
    /// Takes in a push notification's data map (FCM `RemoteMessage.data`, APNs `userInfo`'s
    /// string entries) and goes on as [`Authenticator::handle_notification`] does.
    pub fn handle_notification_data<'a>(
        &self,
        data: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<PushRequestInfo> {
        let map: Map<String, Value> = data
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        self.handle_notification(&Value::Object(map).to_string())
    }
}
