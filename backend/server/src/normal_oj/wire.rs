//! Their wire formats, as both of their channels need them: JSON bodies
//! parsed their way, and zips whose bytes are the same on every backend
//! instance (their runner hashes what it fetches).

use std::io::Write;

use crate::error::ApiError;

/// Parses a JSON body of theirs, after the caller is authenticated (so a
/// stranger gets 401 whatever it sent): one that does not parse or has the
/// wrong shape is `400`, what their runner expects of "malformed". The
/// content type is not checked (their runner sends JSON).
pub fn their_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("bad_json", format!("the body is not the expected JSON: {e}"))
    })
}

/// The options of every entry: deflated, with a fixed time and mode, so the
/// same files make the same bytes on every backend instance.
pub fn entry_options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644)
}

/// A zip archive holding one file.
pub fn zip_one(name: &str, content: &[u8]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(name, entry_options())?;
    zip.write_all(content)?;
    Ok(zip.finish()?.into_inner())
}
