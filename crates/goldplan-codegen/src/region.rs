//! Generated regions inside hand-written files. A region is the lines between a line holding
//! `goldplan-codegen:begin NAME` and one holding `goldplan-codegen:end NAME` (each in the
//! file's own comment syntax, written by hand, saying that the lines between are generated).
//! The generator owns those lines and nothing else of the file.

/// `text` with the lines of region `name` replaced by `body` (which ends with a newline or is
/// empty).
pub fn replace(text: &str, name: &str, body: &str) -> Result<String, String> {
    let begin = format!("goldplan-codegen:begin {name}");
    let end = format!("goldplan-codegen:end {name}");
    let line_end = |at: usize| text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    let start = text
        .find(&begin)
        .map(line_end)
        .ok_or_else(|| format!("no `{begin}` line"))?;
    if text[start..].contains(&begin) {
        return Err(format!("`{begin}` appears twice"));
    }
    let stop = text[start..]
        .find(&end)
        .map(|i| start + i)
        .ok_or_else(|| format!("no `{end}` line after its begin"))?;
    // The end marker's line starts at the last newline before the marker.
    let stop = text[..stop].rfind('\n').map_or(0, |i| i + 1).max(start);
    Ok(format!("{}{}{}", &text[..start], body, &text[stop..]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_lines_between_the_markers_change() {
        let text = "a\n  // goldplan-codegen:begin ops (generated)\nold\nold2\n  // goldplan-codegen:end ops\nz\n";
        assert_eq!(
            replace(text, "ops", "new\n").unwrap(),
            "a\n  // goldplan-codegen:begin ops (generated)\nnew\n  // goldplan-codegen:end ops\nz\n"
        );
        let twice = replace(text, "ops", "new\n").unwrap();
        assert_eq!(replace(&twice, "ops", "new\n").unwrap(), twice);
        assert!(replace(text, "other", "").is_err());
        assert!(replace("x goldplan-codegen:begin ops\n", "ops", "").is_err());
    }
}
