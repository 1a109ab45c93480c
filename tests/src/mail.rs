//! Client of the mail catcher's REST API (maildev, started by `scripts/test.sh`): tests read the
//! messages the apps really delivered over SMTP. Every test shares the one catcher, so a test
//! isolates its mails by unique recipient addresses ([`unique_address`]) and never deletes any.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// SMTP URL the apps under test send to (`BW_TEST_SMTP_URL`).
pub fn smtp_url() -> String {
    std::env::var("BW_TEST_SMTP_URL").unwrap_or_else(|_| "smtp://127.0.0.1:1025".to_owned())
}

/// Base URL of the catcher's web inbox and REST API (`BW_TEST_MAIL_WEB_URL`).
pub fn web_url() -> String {
    let url = std::env::var("BW_TEST_MAIL_WEB_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:1080".to_owned());
    url.trim_end_matches('/').to_owned()
}

/// A recipient address no other test uses: `<label>-<uuid>@mail.bluewhale.test`.
pub fn unique_address(label: &str) -> String {
    format!("{label}-{}@mail.bluewhale.test", Uuid::new_v4().simple())
}

/// A message as the catcher received it.
#[derive(Debug, Clone)]
pub struct CaughtMail {
    /// maildev's id (`GET {web_url}/email/{id}`).
    pub id: String,
    /// Decoded `Subject` header ("" if none).
    pub subject: String,
    /// Addresses of the `From` header (without display names).
    pub from: Vec<String>,
    /// Addresses of the `To` header (without display names). Cc and Bcc recipients appear
    /// only in the SMTP envelope, which [`messages_to`] also matches.
    pub to: Vec<String>,
    /// Plain-text part ("" if none).
    pub text: String,
    /// HTML part ("" if none).
    pub html: String,
    /// `Message-ID` header without the angle brackets.
    pub message_id: Option<String>,
}

/// The fields used of maildev's `GET /email` items.
#[derive(Deserialize)]
struct RawMail {
    id: String,
    subject: Option<String>,
    #[serde(default)]
    from: Option<Vec<RawAddress>>,
    #[serde(default)]
    to: Option<Vec<RawAddress>>,
    #[serde(default)]
    cc: Option<Vec<RawAddress>>,
    // A string, or absent/false when the part is missing.
    #[serde(default)]
    text: Value,
    #[serde(default)]
    html: Value,
    #[serde(rename = "messageId")]
    message_id: Option<String>,
    envelope: Option<RawEnvelope>,
}

#[derive(Deserialize)]
struct RawAddress {
    address: String,
}

#[derive(Deserialize)]
struct RawEnvelope {
    #[serde(default)]
    to: Vec<RawAddress>,
}

impl RawMail {
    /// Envelope recipients (RCPT TO: To, Cc and Bcc) and the To and Cc headers.
    fn is_to(&self, address: &str) -> bool {
        let envelope = self.envelope.iter().flat_map(|e| &e.to);
        let headers = self.to.iter().chain(&self.cc).flatten();
        envelope
            .chain(headers)
            .any(|a| a.address.trim().eq_ignore_ascii_case(address.trim()))
    }

    fn into_caught(self) -> CaughtMail {
        let addresses =
            |list: Option<Vec<RawAddress>>| list.into_iter().flatten().map(|a| a.address).collect();
        let body = |part: Value| part.as_str().unwrap_or_default().to_owned();
        CaughtMail {
            id: self.id,
            subject: self.subject.unwrap_or_default(),
            from: addresses(self.from),
            to: addresses(self.to),
            text: body(self.text),
            html: body(self.html),
            message_id: self.message_id,
        }
    }
}

async fn all_messages() -> Vec<RawMail> {
    let url = format!("{}/email", web_url());
    bluewhale::tls::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    let response = client.get(&url).send().await.unwrap_or_else(|error| {
        panic!("GET {url}: {error} (is the mail catcher running? scripts/test.sh starts it)")
    });
    let status = response.status();
    assert!(status.is_success(), "GET {url}: {status}");
    response
        .json()
        .await
        .unwrap_or_else(|error| panic!("GET {url}: not maildev's list of mails: {error}"))
}

/// Every caught message with `address` among its recipients (case-insensitive), oldest first.
pub async fn messages_to(address: &str) -> Vec<CaughtMail> {
    all_messages()
        .await
        .into_iter()
        .filter(|mail| mail.is_to(address))
        .map(RawMail::into_caught)
        .collect()
}

/// Waits until a message to `address` whose subject contains `subject_contains` arrives, and
/// returns the first such one. Panics after `within`, listing the messages to `address`.
pub async fn wait_for_mail(address: &str, subject_contains: &str, within: Duration) -> CaughtMail {
    let deadline = tokio::time::Instant::now() + within;
    let mut pause = Duration::from_millis(20);
    loop {
        let mails = messages_to(address).await;
        if let Some(mail) = mails.iter().find(|m| m.subject.contains(subject_contains)) {
            return mail.clone();
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
            panic!(
                "no mail to {address} with a subject containing {subject_contains:?} within \
                 {within:?}; {} arrived for that address: {subjects:?} (inbox: {})",
                mails.len(),
                web_url()
            );
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    use super::*;

    /// Reads one (possibly multi-line) SMTP reply and checks its code.
    async fn reply(reader: &mut BufReader<TcpStream>, code: &str) {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("read SMTP reply");
            assert!(line.starts_with(code), "expected {code}, got {line:?}");
            if line.as_bytes().get(3) != Some(&b'-') {
                return;
            }
        }
    }

    async fn send(from: &str, to: &str, subject: &str, body: &str) {
        let hostport = smtp_url()
            .trim_start_matches("smtp://")
            .trim_end_matches('/')
            .to_owned();
        let stream = TcpStream::connect(&hostport)
            .await
            .unwrap_or_else(|error| panic!("connect {hostport}: {error}"));
        let mut smtp = BufReader::new(stream);
        reply(&mut smtp, "220").await;
        let id = format!("{}@bluewhale.test", Uuid::new_v4().simple());
        let data = format!(
            "From: Blue Whale <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\n\
             Message-ID: <{id}>\r\n\r\n{body}\r\n.\r\n"
        );
        let dialogue = [
            ("EHLO tests.bluewhale.test\r\n".to_owned(), "250"),
            (format!("MAIL FROM:<{from}>\r\n"), "250"),
            (format!("RCPT TO:<{to}>\r\n"), "250"),
            ("DATA\r\n".to_owned(), "354"),
            (data, "250"),
            ("QUIT\r\n".to_owned(), "221"),
        ];
        for (command, code) in dialogue {
            smtp.get_mut()
                .write_all(command.as_bytes())
                .await
                .expect("write SMTP command");
            reply(&mut smtp, code).await;
        }
    }

    #[tokio::test]
    async fn a_mail_sent_over_smtp_is_found_by_recipient_and_subject() {
        let to = unique_address("mail-test");
        let other = unique_address("mail-test-other");
        send(
            "noreply@bluewhale.test",
            &to.to_uppercase(),
            "Order 42 confirmed",
            "Hello\r\nyour order is confirmed.",
        )
        .await;
        send("noreply@bluewhale.test", &other, "Not for you", "other").await;

        let mail = wait_for_mail(&to, "42 confirmed", Duration::from_secs(10)).await;
        assert_eq!(mail.subject, "Order 42 confirmed");
        assert_eq!(mail.from, ["noreply@bluewhale.test"]);
        assert!(mail.to[0].eq_ignore_ascii_case(&to), "{:?}", mail.to);
        assert!(
            mail.text.contains("your order is confirmed."),
            "{:?}",
            mail.text
        );
        assert_eq!(mail.html, "");
        assert!(
            mail.message_id
                .as_deref()
                .is_some_and(|id| id.ends_with("@bluewhale.test"))
        );
        let mails = messages_to(&to).await;
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert_eq!(messages_to(&other).await[0].subject, "Not for you");
    }
}
