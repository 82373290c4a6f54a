//! Gavel's one settings file, shared by every service subcommand
//! (`--config gavel.toml`; annotated in `examples/gavel.toml`): a
//! `[backend]` table for `gavel backend`, a `[runner]` table for `gavel
//! runner`, and both for `gavel up`. A file without these tables holds one
//! command's keys at the top level (the older, per-command form).
//!
//! And the one layering of a command's settings, [`layered`]: a setting
//! given as a flag or a `GAVEL_*` variable (clap has already put the flag
//! over the variable) wins over the file's key, key by key; each command
//! then fills what no layer gave with its default. A command's settings are
//! one serde struct of `Option`s whose field names are the file's keys.

use serde::Serialize;
use serde::de::DeserializeOwned;

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

/// `given` (flags and env) over the file's settings for `command` (one of
/// [`SECTIONS`]), whose text is `file` when there is one: every setting
/// `given` holds wins, the rest come from the file. A key the settings do
/// not know, or a value of the wrong type, is refused with its name.
pub fn layered<T: Serialize + DeserializeOwned>(
    given: &T,
    file: Option<&str>,
    command: &str,
) -> Result<T, String> {
    // Unset settings (`None`) leave no key, so they never hide the file's.
    let given = toml::Table::try_from(given).map_err(|e| e.to_string())?;
    let mut merged = match file {
        Some(text) => section(text, command)?,
        None => toml::Table::new(),
    };
    merged.extend(given);
    merged.try_into().map_err(|e: toml::de::Error| e.to_string().trim_end().to_string())
}

/// [`layered`] with the settings file at `path`, if any, read from disk.
/// Errors name the file.
pub fn load<T: Serialize + DeserializeOwned>(
    given: &T,
    path: Option<&std::path::Path>,
    command: &str,
) -> Result<T, String> {
    let Some(path) = path else {
        return layered(given, None, command);
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    layered(given, Some(&text), command)
        .map_err(|e| format!("{}: invalid {command} config: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command's settings, as the services declare theirs.
    #[derive(Debug, Default, PartialEq, Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        slots: Option<u32>,
        name: Option<String>,
        labels: Option<Vec<String>>,
        #[serde(skip)]
        config: Option<String>,
    }

    #[test]
    fn a_given_setting_wins_over_the_files_key_by_key() {
        let given = Settings { slots: Some(2), config: Some("x".into()), ..Default::default() };
        let file = "[runner]\nslots = 8\nname = \"box\"\n[backend]\nlease_ttl_s = 5\n";
        let settings = layered(&given, Some(file), "runner").unwrap();
        let expected = Settings { slots: Some(2), name: Some("box".into()), ..Default::default() };
        assert_eq!(settings, expected);
        let flat = layered(&Settings::default(), Some("labels = [\"gpu\"]\n"), "runner").unwrap();
        assert_eq!(flat.labels, Some(vec!["gpu".to_string()]));
        assert_eq!(layered(&given, None, "runner").unwrap().slots, Some(2));
    }

    #[test]
    fn unknown_keys_and_wrong_types_in_the_file_are_named() {
        let given = Settings::default();
        let unknown = layered(&given, Some("[runner]\nslot = 2\n"), "runner").unwrap_err();
        assert!(unknown.contains("slot"), "{unknown}");
        let wrong = layered(&given, Some("slots = \"two\"\n"), "runner").unwrap_err();
        assert!(wrong.contains("slots"), "{wrong}");
        // A given setting cannot mask a bad key in the file.
        let masked = Settings { slots: Some(1), ..Default::default() };
        assert!(layered(&masked, Some("slot = 2\n"), "runner").is_err());
    }

    #[test]
    fn a_missing_file_is_named() {
        let missing = std::path::Path::new("/nonexistent/gavel.toml");
        let error = load(&Settings::default(), Some(missing), "runner").unwrap_err();
        assert!(error.starts_with("reading /nonexistent/gavel.toml"), "{error}");
        assert_eq!(load(&Settings::default(), None, "runner").unwrap(), Settings::default());
    }

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
