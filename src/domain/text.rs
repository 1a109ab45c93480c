//! What a free-text field may hold: bounded length, no control characters (PostgreSQL text
//! cannot store NUL, and the others have no business in names, notes or reasons).

use super::refusal::FieldIssue;

/// The issues of a text field's value: `TOO_LONG` beyond `max` characters,
/// `INVALID_CHARACTERS` for control characters other than line breaks and tabs.
pub fn text_issues(value: &str, field: &str, max: usize) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    if value.chars().count() > max {
        issues.push(FieldIssue::new(
            field,
            "TOO_LONG",
            format!("{field} holds at most {max} characters"),
        ));
    }
    if has_control_characters(value) {
        issues.push(FieldIssue::new(
            field,
            "INVALID_CHARACTERS",
            format!("{field} contains control characters"),
        ));
    }
    issues
}

/// Whether `value` holds a control character other than a line break or a tab.
pub fn has_control_characters(value: &str) -> bool {
    value.chars().any(is_refused_control)
}

/// `value` with every control character [`has_control_characters`] refuses written as a
/// `\u{…}` escape: for answers that quote what a client sent (an unknown field's name),
/// which hold no control character themselves.
pub fn escape_control_characters(value: &str) -> std::borrow::Cow<'_, str> {
    if !has_control_characters(value) {
        return value.into();
    }
    value
        .chars()
        .map(|c| {
            if is_refused_control(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

fn is_refused_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\r' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_control_characters_are_escaped() {
        assert_eq!(escape_control_characters("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            escape_control_characters("m\u{81}\u{2}x"),
            "m\\u{81}\\u{2}x"
        );
        assert!(!has_control_characters(&escape_control_characters(
            "\u{0}\u{7f}"
        )));
    }

    #[test]
    fn bounds_and_control_characters() {
        assert!(text_issues("two\nlines\tand a tab", "notes", 100).is_empty());
        let codes = |v: &str, max| -> Vec<String> {
            text_issues(v, "notes", max)
                .into_iter()
                .map(|i| i.code)
                .collect()
        };
        assert_eq!(codes("x\u{0}", 10), ["INVALID_CHARACTERS"]);
        assert_eq!(codes("bell\u{7}", 10), ["INVALID_CHARACTERS"]);
        assert_eq!(
            codes("ééé", 3),
            Vec::<String>::new(),
            "characters, not bytes"
        );
        assert_eq!(codes("abcd\u{1b}", 4), ["TOO_LONG", "INVALID_CHARACTERS"]);
    }
}
