//! Outgoing e-mail through the SMTP server of the `[smtp]` table (lettre on tokio, rustls).
//! Nothing else names lettre.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{SmtpSettings, SmtpTls};

/// A connection recipe for the configured server; cheap to build per batch.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// One recipient: display name and address.
pub struct Recipient {
    pub name: String,
    pub email: String,
}

impl Mailer {
    /// Checks the settings (host, sender address) without connecting.
    pub fn new(smtp: &SmtpSettings) -> Result<Mailer, String> {
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| format!("[smtp] from“{}”不是有效的发件地址：{e}", smtp.from))?;
        let builder = match smtp.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| format!("[smtp] host“{}”：{e}", smtp.host))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| format!("[smtp] host“{}”：{e}", smtp.host))?,
        };
        let mut builder = builder
            .port(smtp.port())
            .timeout(Some(Duration::from_secs(20)));
        if let Some(user) = smtp.username.as_ref().filter(|u| !u.is_empty()) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                smtp.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one plain-text message (UTF-8) to all `to`, its Message-ID `<key@sender's
    /// domain>` (`key` the same on every attempt of one job). The error is for the operator's
    /// log and the job row, not for end users.
    pub async fn send(
        &self,
        to: &[Recipient],
        subject: &str,
        body: &str,
        key: &str,
    ) -> Result<(), String> {
        let id = format!("<{key}@{}>", self.from.email.domain());
        let message = build(&self.from, to, subject, body, id)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP 发送失败：{e}"))
    }
}

/// Builds the message. Names and the subject are cleaned of control characters first (a line
/// break in a display name would otherwise end the header), and the builder runs inside
/// `catch_unwind`: whatever a stored name holds, one message can fail, never the process or
/// the other messages of the pass.
fn build(
    from: &Mailbox,
    to: &[Recipient],
    subject: &str,
    body: &str,
    message_id: String,
) -> Result<Message, String> {
    let attempt = std::panic::catch_unwind(|| {
        let mut message = Message::builder()
            .from(from.clone())
            .message_id(Some(message_id));
        let mut any = false;
        for r in to {
            match r.email.trim().parse() {
                Ok(address) => {
                    let name = header_text(&r.name);
                    message = message.to(Mailbox::new((!name.is_empty()).then_some(name), address));
                    any = true;
                }
                Err(e) => tracing::warn!(email = %r.email, "skipping an invalid address: {e}"),
            }
        }
        if !any {
            return Err("没有有效的收件地址".to_string());
        }
        message
            .subject(header_text(subject))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| format!("邮件内容无法生成：{e}"))
    });
    attempt.unwrap_or_else(|_| Err("邮件内容无法生成（收件人姓名或标题含有无法编码的字符）".into()))
}

/// Text fit for a header: control and format characters become spaces, runs of space one,
/// at most 200 characters.
fn header_text(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_control() || crate::domain::text::is_format_char(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    cleaned
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect()
}

/// Whether `email` is a usable address: what lettre accepts, within RFC 5321's lengths, no
/// display name or spaces.
pub fn valid_email(email: &str) -> bool {
    email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>')
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| local.len() <= 64 && domain.contains('.'))
        && email.parse::<lettre::Address>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_never_break_a_message() {
        let from: Mailbox = "网聚 <wangju@example.cn>".parse().expect("from");
        for name in [
            "张三\r\nBcc: evil@example.cn",
            "\u{202e}李四",
            "\0",
            "王\n五",
            "",
        ] {
            let to = [Recipient {
                name: name.to_string(),
                email: "hexi.union@example.cn".into(),
            }];
            let id = "<wangju-reminder-7-1600000000@example.cn>".to_string();
            let message = build(&from, &to, "催报：\r\n和平区", "正文", id).expect("builds");
            let text = String::from_utf8(message.formatted()).expect("utf-8");
            assert!(!text.contains("Bcc:"), "{text}");
            assert!(
                text.contains("\r\nMessage-ID: <wangju-reminder-7-1600000000@example.cn>\r\n"),
                "{text}"
            );
            assert_eq!(text.matches("\r\nTo: ").count(), 1, "{text}");
        }
    }

    #[test]
    fn addresses() {
        assert!(valid_email("hexi.union@example.cn"));
        assert!(valid_email("zhang_san+cuibao@mail.tj.gov.cn"));
        for bad in [
            "",
            "no-at.example.cn",
            "a@b",
            "两个@@example.cn",
            "a b@example.cn",
            "<a@example.cn>",
            "a@",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
