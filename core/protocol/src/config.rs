//! Gavel's one settings file, shared by every service subcommand
//! (`--config gavel.toml`; annotated in `examples/gavel.toml`): a
//! `[backend]` table for `gavel backend`, a `[runner]` table for `gavel
//! runner`, and both for `gavel up`. A file without these tables holds one
//! command's keys at the top level (the older, per-command form).

/// The tables of the shared file.
pub const SECTIONS: [&str; 2] = ["backend", "runner"];

/// The settings of `command` (one of [`SECTIONS`]) in a settings file's
/// text: its table in the shared form (empty if absent), or the whole file
/// in the per-command form. A key of the shared form outside the tables is
/// refused by name.
pub fn section(text: &str, command: &str) -> Result<toml::Table, String> {
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let shared = SECTIONS.iter().any(|s| table.get(*s).is_some_and(toml::Value::is_table));
    if !shared {
        return Ok(table);
    }
    if let Some(stray) = table.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        return Err(format!(
            "{stray:?} is outside the [backend] and [runner] tables (every key belongs in one)"
        ));
    }
    match table.remove(command) {
        None => Ok(toml::Table::new()),
        Some(toml::Value::Table(section)) => Ok(section),
        Some(_) => Err(format!("{command} must be a table ([{command}])")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_form_gives_each_command_its_table() {
        let text = "[backend]\nlease_ttl_s = 5\n[runner]\nslots = 2\n";
        assert_eq!(section(text, "backend").unwrap()["lease_ttl_s"].as_integer(), Some(5));
        assert_eq!(section(text, "runner").unwrap()["slots"].as_integer(), Some(2));
        assert!(section("[runner]\nslots = 2\n", "backend").unwrap().is_empty());
    }

    #[test]
    fn a_flat_file_is_one_commands_settings_and_strays_are_named() {
        assert_eq!(section("slots = 3\n", "runner").unwrap()["slots"].as_integer(), Some(3));
        let stray = section("slots = 3\n[backend]\n", "runner").unwrap_err();
        assert!(stray.contains("\"slots\""), "{stray}");
        assert!(section("slots = \n", "runner").is_err());
    }

    #[test]
    fn the_annotated_example_parses_in_both_tables() {
        let text = include_str!("../../../examples/gavel.toml");
        for command in SECTIONS {
            assert!(
                !section(text, command).unwrap().is_empty(),
                "[{command}] in examples/gavel.toml"
            );
        }
    }
}
