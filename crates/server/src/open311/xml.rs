//! A small XML writer for Open311 responses: elements, escaped text, and nothing else (no attributes, no namespaces,
//! which GeoReport v2 does not use).
//!
//! Text is escaped and characters that XML 1.0 cannot carry at all (most C0 controls) are dropped, so any string a
//! resident typed renders to a well-formed document.

/// An XML document being written. Start with [`Xml::document`], finish with [`Xml::finish`].
#[derive(Debug)]
pub struct Xml {
    out: String,
}

impl Xml {
    pub fn document() -> Xml {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
        }
    }

    /// Writes `<tag>`, the children written by `body`, then `</tag>`.
    pub fn element(&mut self, tag: &str, body: impl FnOnce(&mut Xml)) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        body(self);
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// Writes `<tag>text</tag>`.
    pub fn text(&mut self, tag: &str, text: &str) {
        self.element(tag, |w| escape_into(&mut w.out, text));
    }

    /// Writes `<tag>text</tag>`, or `<tag/>` when there is no value (Open311 keeps absent fields as empty elements).
    pub fn opt(&mut self, tag: &str, text: Option<&str>) {
        match text {
            Some(t) => self.text(tag, t),
            None => {
                self.out.push('<');
                self.out.push_str(tag);
                self.out.push_str("/>");
            }
        }
    }

    pub fn display(&mut self, tag: &str, value: impl std::fmt::Display) {
        self.text(tag, &value.to_string());
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 §2.2: only tab, newline and carriage return among the C0 controls; U+FFFE/U+FFFF are not
            // characters either.
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_controls_dropped() {
        let mut w = Xml::document();
        w.element("a", |w| {
            w.text("b", "x < y & \"z\"\u{0}\u{7}\n");
            w.opt("c", None);
        });
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a><b>x &lt; y &amp; &quot;z&quot;\n</b><c/></a>"
        );
    }
}
