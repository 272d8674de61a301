//! Text for the terminal.

/// Control characters other than newline and tab become escapes (`\u{1b}`), so a name or value
/// from a file or a database cannot move the cursor, clear the screen or retitle the terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(printable("a\u{1b}[2Jb\u{7}"), "a\\u{1b}[2Jb\\u{7}");
        assert_eq!(printable("lr\t0.1\nnext é"), "lr\t0.1\nnext é");
        assert_eq!(printable("\u{9b}"), "\\u{9b}", "C1 controls too");
    }
}
