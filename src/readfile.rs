//! Bounded reads of regular files: everything looplint reads from a repository (sources,
//! configuration, manifests, baselines) goes through here, so a FIFO, a device or a link to
//! `/dev/zero` is an error for that path instead of a hang or an endless read, and no file is
//! read past a size cap.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Size cap of configuration files and manifests (`pyproject.toml`, `Cargo.toml`,
/// `setup.cfg`, ...).
pub const CONFIG_LIMIT: u64 = 8 << 20;

/// Size cap of baseline files.
pub const BASELINE_LIMIT: u64 = 256 << 20;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadFileError {
    /// The OS refused (missing, permission denied...).
    Io(std::io::Error),
    /// The path is not a regular file (what it is instead: "a FIFO", "a directory"...).
    NotRegular(&'static str),
    /// The file is larger than the cap.
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The cap in bytes.
        limit: u64,
    },
}

impl std::fmt::Display for ReadFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadFileError::Io(e) => write!(f, "{}", io_clause(e)),
            ReadFileError::NotRegular(kind) => write!(f, "not a regular file ({kind})"),
            ReadFileError::TooLarge { size, limit } => write!(
                f,
                "file too large ({}, the limit is {})",
                human_size(*size),
                human_size(*limit)
            ),
        }
    }
}

impl std::error::Error for ReadFileError {}

/// An I/O error as one lowercase clause without the OS error number.
pub fn io_clause(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = e.to_string();
            let text = match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

/// A byte count for people: `512 bytes`, `1.5 KB`, `12.3 MB` (powers of 1000, as the
/// `max-file-size` values are given).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            let whole = bytes / unit;
            let tenth = (bytes % unit) * 10 / unit;
            return if tenth == 0 {
                format!("{whole} {name}")
            } else {
                format!("{whole}.{tenth} {name}")
            };
        }
    }
    format!("{bytes} bytes")
}

/// Parses a size: bytes (`1000000`), or a number with a unit, `KB`, `MB`, `GB` (powers of 1000)
/// or `KiB`, `MiB`, `GiB` (powers of 1024), in any case; `0` means no limit.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown unit in `{text}` (bytes, KB, MB, GB, KiB, MiB, GiB)"
            ));
        }
    };
    let invalid = || format!("`{text}` is not a size (bytes, or a number with KB, MB, GB...)");
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(invalid());
    }
    Ok(bytes.round() as u64)
}

/// What a non-regular file type is, for messages.
pub fn kind_of(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Opens `path` without blocking on a FIFO, and checks that it is a regular file. Returns the
/// file and its size.
pub fn open_regular(path: &Path) -> Result<(File, u64), ReadFileError> {
    // Looking first keeps devices and FIFOs closed: opening a FIFO for reading blocks until a
    // writer comes, and opening some devices has effects.
    let meta = std::fs::metadata(path).map_err(ReadFileError::Io)?;
    if !meta.is_file() {
        return Err(ReadFileError::NotRegular(kind_of(meta.file_type())));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Should the path be swapped for a FIFO between the look and the open, the open still
        // returns at once.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(ReadFileError::Io)?;
    let meta = file.metadata().map_err(ReadFileError::Io)?;
    if !meta.is_file() {
        return Err(ReadFileError::NotRegular(kind_of(meta.file_type())));
    }
    Ok((file, meta.len()))
}

/// Reads a regular file of at most `limit` bytes.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReadFileError> {
    let mut bytes = Vec::new();
    read_into(path, limit, &mut bytes)?;
    Ok(bytes)
}

/// Reads a regular file of at most `limit` bytes into `buf` (emptied first; its capacity is
/// reused, so a buffer kept from file to file takes no new pages).
///
/// The file is read as large as it was when opened: one `read` of that size, and no probe for
/// more (a file that grows meanwhile is read to that size, never past the cap). A file that
/// says it is empty (the kernel's pseudo files do) is read to its end, within the cap.
pub fn read_into(path: &Path, limit: u64, buf: &mut Vec<u8>) -> Result<(), ReadFileError> {
    let (file, size) = open_regular(path)?;
    if size > limit {
        return Err(ReadFileError::TooLarge { size, limit });
    }
    buf.clear();
    if size == 0 {
        (&file)
            .take(limit.saturating_add(1))
            .read_to_end(buf)
            .map_err(ReadFileError::Io)?;
        if buf.len() as u64 > limit {
            return Err(ReadFileError::TooLarge {
                size: buf.len() as u64,
                limit,
            });
        }
        return Ok(());
    }
    // Zeroing a kept buffer costs less than the reads in growing steps and the probe for the
    // end that `read_to_end` makes.
    buf.resize(size as usize, 0);
    let mut filled = 0;
    while filled < buf.len() {
        match (&file).read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadFileError::Io(e)),
        }
    }
    buf.truncate(filled);
    Ok(())
}

/// Reads a regular UTF-8 file of at most `limit` bytes.
pub fn read_string(path: &Path, limit: u64) -> Result<String, ReadFileError> {
    let bytes = read_bytes(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        ReadFileError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not valid UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// The largest char boundary of `text` at or below `at`.
pub fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Whether `path` is a regular file (following links), without opening it.
pub fn is_regular(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("1.5 mb"), Ok(1_500_000));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(1_000_000), "1 MB");
        assert_eq!(human_size(1_500_000), "1.5 MB");
        assert_eq!(human_size(4_300_000_000), "4.3 GB");
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("setup.cfg");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if status.is_ok_and(|s| s.success()) {
            let e = read_string(&fifo, CONFIG_LIMIT).unwrap_err();
            assert_eq!(e.to_string(), "not a regular file (a FIFO)");
        }
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read_bytes(&zero, CONFIG_LIMIT),
            Err(ReadFileError::NotRegular("a character device"))
        ));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 100]).unwrap();
        assert!(matches!(
            read_bytes(&big, 99),
            Err(ReadFileError::TooLarge {
                size: 100,
                limit: 99
            })
        ));
        assert_eq!(read_bytes(&big, 100).unwrap().len(), 100);
    }
}
