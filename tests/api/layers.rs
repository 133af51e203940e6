//! The layers import downwards only: `domain` imports nothing of ours, `storage` only `domain`
//! (and the private-file helpers), so `crypto` can build on `storage` without a cycle.

use std::collections::BTreeSet;
use std::path::Path;

/// The crate's top-level modules named by `crate::` paths in the files under `src/<module>/`
/// (grouped imports `crate::{a, b}` included).
fn imports_of(module: &str) -> BTreeSet<String> {
    let mut files = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(module)];
    let mut found = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                files.push(entry.expect("dir entry").path());
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read source");
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or_default().split(',').collect(),
                None => vec![rest],
            };
            for name in names {
                let name: String = name
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    found.insert(name);
                }
            }
        }
    }
    found
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn domain_imports_nothing_of_ours() {
    assert_eq!(imports_of("domain"), set(&[]));
}

#[test]
fn storage_imports_only_the_domain() {
    let imports = imports_of("storage");
    assert!(
        imports.is_subset(&set(&["domain", "private_files"])),
        "storage imports {imports:?}"
    );
    // The positive control: the scan does find what storage uses, and what crypto uses.
    assert!(imports.contains("domain"));
    assert!(imports_of("crypto").contains("storage"));
}
