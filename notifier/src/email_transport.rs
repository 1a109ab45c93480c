//! One e-mail attempt over SMTP (lettre): the server's acceptance is the success.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header::MessageId};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::email_content::EmailContent;

/// Sends supplier e-mails.
#[derive(Clone)]
pub struct EmailTransport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailTransport {
    /// A transport to the SMTP server of `url` (`smtp://`, `smtps://`, `?tls=required`).
    pub fn new(url: &str, from: &str, timeout: Duration) -> anyhow::Result<Self> {
        let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("BW_SMTP_URL: {e}"))?
            .timeout(Some(timeout))
            .build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("BW_MAIL_FROM {from:?}: {e}"))?;
        Ok(Self { smtp, from })
    }

    /// Sends one e-mail; `message_id` makes its `Message-ID` stable across retries, so a
    /// mailbox can tell a retried message from a new one.
    pub async fn send(
        &self,
        to: &str,
        message_id: &str,
        content: &EmailContent,
    ) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(content.subject.clone())
            .header(MessageId::from(format!(
                "<{message_id}@notifier.bluewhale>"
            )))
            .multipart(MultiPart::alternative_plain_html(
                content.text.clone(),
                content.html.clone(),
            ))
            .map_err(|e| format!("building the e-mail: {e}"))?;
        self.smtp
            .send(email)
            .await
            .map(drop)
            .map_err(|e| format!("SMTP: {e}"))
    }
}
