//! Writes the corpus to `benches/corpus/manifest.json` (or to the path given as the first
//! argument) for the Node harness. `tests/corpus.rs` fails when the committed file is stale.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let path = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/manifest.json"),
        PathBuf::from,
    );
    let json = sio_benches::corpus::manifest_json();
    std::fs::write(&path, &json)?;
    println!("wrote {} ({} bytes)", path.display(), json.len());
    Ok(())
}
