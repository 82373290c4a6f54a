//! The set of plugins a judge or runner can use, by id: builtins first, then
//! whatever a plugins folder holds. A broken file is reported and skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{CheckerPlugin, LanguagePlugin, Plugin, PluginHost, PluginInfo};

/// A plugin file that could not be used, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Loaded plugins by id.
#[derive(Debug, Clone, Default)]
pub struct PluginSet {
    checkers: BTreeMap<String, CheckerPlugin>,
    languages: BTreeMap<String, LanguagePlugin>,
}

impl PluginSet {
    /// Adds a plugin, replacing any earlier one with the same id and kind.
    pub fn insert(&mut self, plugin: Plugin) {
        match plugin {
            Plugin::Checker(c) => {
                self.checkers.insert(c.info().id.clone(), c);
            }
            Plugin::Language(l) => {
                self.languages.insert(l.info().id.clone(), l);
            }
        }
    }

    /// Loads every `*.wasm` file of `dir` (sorted by name). Files that fail
    /// are returned, not fatal.
    pub fn load_dir(&mut self, host: &PluginHost, dir: &Path) -> std::io::Result<Vec<Skipped>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
            .collect();
        paths.sort();
        let mut skipped = Vec::new();
        for path in paths {
            match std::fs::read(&path) {
                Ok(bytes) => match host.load(&bytes) {
                    Ok(plugin) => self.insert(plugin),
                    Err(e) => skipped.push(Skipped { path, reason: e.to_string() }),
                },
                Err(e) => skipped.push(Skipped { path, reason: e.to_string() }),
            }
        }
        Ok(skipped)
    }

    /// The checker with this id.
    pub fn checker(&self, id: &str) -> Option<&CheckerPlugin> {
        self.checkers.get(id)
    }

    /// The language with this id.
    pub fn language(&self, id: &str) -> Option<&LanguagePlugin> {
        self.languages.get(id)
    }

    /// Languages whose source file has this extension (e.g. `js`).
    pub fn languages_for_extension(&self, ext: &str) -> Vec<&LanguagePlugin> {
        self.languages.values().filter(|l| l.extension() == Some(ext)).collect()
    }

    /// Every plugin's info, checkers first, each sorted by id.
    pub fn infos(&self) -> Vec<&PluginInfo> {
        self.checkers
            .values()
            .map(CheckerPlugin::info)
            .chain(self.languages.values().map(LanguagePlugin::info))
            .collect()
    }

    /// Ids of the languages.
    pub fn language_ids(&self) -> Vec<&str> {
        self.languages.keys().map(String::as_str).collect()
    }
}
