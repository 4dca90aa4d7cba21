//! Escaping for the page: fixtures and server data are untrusted, every piece of them goes
//! through here.

use super::MAX_TEXT;
use std::fmt::Write as _;

/// HTML-escaped text with control characters made visible (`\x1e`) and long text cut.
pub(super) fn shown(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX_TEXT {
            let _ = write!(
                out,
                "<span class=\"muted\"> … ({} bytes)</span>",
                text.len()
            );
            break;
        }
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "<span class=\"ctl\">\\x{:02x}</span>", u32::from(c));
            }
            c => push_escaped(&mut out, c),
        }
    }
    out
}

/// Text and attribute escaping.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// Percent-encoding of everything but the unreserved characters (`decodeURIComponent`
/// reverses it).
pub(super) fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        assert_eq!(
            esc(r#"<script>alert('x') & "y"</script>"#),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(
            shown("4a\u{1e}<b>"),
            "4a<span class=\"ctl\">\\x1e</span>&lt;b&gt;"
        );
        assert!(shown(&"x".repeat(MAX_TEXT + 10)).ends_with(&format!(
            "<span class=\"muted\"> … ({} bytes)</span>",
            MAX_TEXT + 10
        )));
    }

    #[test]
    fn url_encoding_survives_decode_uri_component() {
        assert_eq!(
            url_encode("sio5/a b[eio=3,transport=websocket]"),
            "sio5%2Fa%20b%5Beio%3D3%2Ctransport%3Dwebsocket%5D"
        );
    }
}
