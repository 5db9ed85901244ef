//! ELF, DWARF, symbol table and .gopclntab reading on mutated binaries: the
//! input is written to a file, opened as a binary, and asked for frames at
//! addresses taken from the input itself.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use torch::symbolize::binary::Binary;
use torch::symbolize::pclntab::Pclntab;

fuzz_target!(|data: &[u8]| {
    let addresses: Vec<u64> = data
        .chunks(8)
        .take(64)
        .map(|c| c.iter().fold(0u64, |a, &b| a << 8 | b as u64))
        .chain([0x401000, 0x400000 + data.len() as u64 / 2])
        .collect();
    if let Ok(table) = Pclntab::parse(data, Some(0x401000)) {
        for &a in &addresses {
            let _ = table.lookup_inline(a);
        }
    }
    let _ = Pclntab::from_elf(data);
    let mut file = tempfile_in_memory();
    if file.write_all(data).is_err() {
        return;
    }
    if let Ok(binary) = Binary::open(file.path()) {
        let _ = binary.frames_many(&addresses, true);
        for &a in addresses.iter().take(8) {
            let _ = binary.frames(a);
        }
    }
});

/// A scratch file per run, removed on drop.
fn tempfile_in_memory() -> Scratch {
    let path = std::env::temp_dir().join(format!("torch-fuzz-{}.bin", std::process::id()));
    Scratch {
        file: std::fs::File::create(&path).expect("scratch file"),
        path,
    }
}

struct Scratch {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl Scratch {
    fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Write for Scratch {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
