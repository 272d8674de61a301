//! A cap on how deeply an experiment file nests, checked on the text before any YAML parser
//! sees it: the parser's time grows with the square of the depth, so a small hostile file
//! (`[[[[…` or `- - - -…` a hundred thousand levels deep) would hang `harmonium run`.
//!
//! The depth of a line is counted from what opens levels: block indentation (one level per
//! distinct indentation on the way in), the `- ` of sequence items written on one line, and
//! the `[` and `{` of flow collections still open. Quoted strings and comments are skipped.
//! Real experiment files nest five or six levels; the cap is far above that.

/// The deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Refuses text nested deeper than [`MAX_DEPTH`], naming the line where it is first exceeded.
pub fn check_nesting(text: &str) -> Result<(), String> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<char> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start_matches(' ');
        let blank = trimmed.is_empty() || trimmed.starts_with('#');
        let mut depth_here = 0;
        if flow == 0 && quote.is_none() && !blank {
            let indent = line.len() - trimmed.len();
            while indents.last().is_some_and(|&i| i > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&i| i < indent) {
                indents.push(indent);
            }
            let mut rest = trimmed;
            let mut dashes = 0;
            while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
                dashes += 1;
                rest = r.trim_start();
            }
            depth_here = indents.len() + dashes;
        }
        let mut prev = ' ';
        for c in line.chars() {
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '#' if prev == ' ' || prev == '\t' => break,
                    '"' | '\'' if prev == ' ' || "[{,:".contains(prev) => quote = Some(c),
                    '[' | '{' => {
                        flow += 1;
                        depth_here = depth_here.max(indents.len() + flow);
                    }
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
        }
        // A single-quoted or plain scalar never spans lines in experiment files; a double
        // quote may, and is carried on.
        if quote == Some('\'') {
            quote = None;
        }
        if depth_here > MAX_DEPTH {
            return Err(format!(
                "line {}: the file nests more than {MAX_DEPTH} levels deep; an experiment file \
                 needs a handful (is this the right file?)",
                n + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_files_pass_and_deep_ones_are_refused_quickly() {
        for f in
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../experiments")).unwrap()
        {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            check_nesting(&text).unwrap();
        }
        let flow = format!(
            "name: x\nmlp: {}1{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = check_nesting(&flow).unwrap_err();
        assert!(e.starts_with("line 2: ") && e.contains("64 levels"), "{e}");
        let dashes = format!("name: x\nseeds:\n  {}1\n", "- ".repeat(100_000));
        assert!(check_nesting(&dashes).unwrap_err().starts_with("line 3: "));
        let mut block = String::from("a:\n");
        for i in 1..70 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(check_nesting(&block).is_err());
        // Brackets in quotes and comments do not count.
        let quoted = format!(
            "name: \"{}\"\ndescription: '{}'  # {}\n",
            "[".repeat(100),
            "{".repeat(100),
            "[".repeat(100)
        );
        check_nesting(&quoted).unwrap();
        // Depth 64 is fine.
        let ok = format!("mlp: {}1{}\n", "[".repeat(63), "]".repeat(63));
        check_nesting(&ok).unwrap();
    }
}
