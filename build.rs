//! The message catalogues (`locales/`) are built into the binary: a new or removed file there
//! rebuilds the crate (`include_str!` already tracks the files it read).
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
