//! The structure rules every library crate keeps, checked on the real sources: no file in `src/`
//! over [`MAX_LINES`] lines, and no import circle between the modules of a directory.
//!
//! A circle is counted between sibling modules: when module `a::x` names anything in `b::y`
//! (through `use`, or a `crate::`/`super::`/`self::` path anywhere in the code), that is an edge
//! `a -> b` in the graph of their common parent. Paths are followed through `pub use` re-exports,
//! so `use crate::Cache` counts as a use of the module that defines `Cache`. Naming an ancestor
//! module itself is not an edge (a child may use what its parent declares).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The longest a source file may be. Past this a file almost always holds two concerns.
const MAX_LINES: usize = 350;

/// Every crate of the workspace whose `src/` is checked, relative to the workspace root.
const CRATES: &[&str] = &[
    "cache-admin",
    "cache-core",
    "cache-macros",
    "cache-redis",
    "cache-writeback",
    "examples/web-server",
    "examples/web-server/model",
    "benches",
    "integration",
];

type ModPath = Vec<String>;

/// What one source file names: its `use` trees (with whether they re-export) and its paths.
#[derive(Default)]
struct Mentions {
    uses: Vec<(bool, ModPath)>,
    paths: Vec<ModPath>,
    /// How many inline `mod m { .. }` blocks enclose the item being visited.
    inline_depth: usize,
}

impl Mentions {
    fn push_use(&mut self, public: bool, prefix: &mut ModPath, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.push_use(public, prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.record_use(public, prefix, Some(n.ident.to_string())),
            syn::UseTree::Rename(r) => self.record_use(public, prefix, Some(r.ident.to_string())),
            syn::UseTree::Glob(_) => self.record_use(public, prefix, None),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.push_use(public, prefix, tree);
                }
            }
        }
    }

    fn record_use(&mut self, public: bool, prefix: &ModPath, last: Option<String>) {
        let mut path = self.outside_inline_mods(prefix.clone());
        match last {
            Some(name) if name != "self" => path.push(name),
            _ => {}
        }
        // A glob re-export can't be followed by name; it still counts as a use of its module.
        let public = public && prefix.len() < path.len();
        self.uses.push((public, path));
    }

    /// `super::` inside an inline `mod tests { .. }` first climbs out of that block.
    fn outside_inline_mods(&self, mut path: ModPath) -> ModPath {
        let mut climbs = self.inline_depth;
        while climbs > 0 && path.first().is_some_and(|s| s == "super") {
            path.remove(0);
            climbs -= 1;
        }
        if climbs < self.inline_depth && !path.first().is_some_and(|s| s == "super" || s == "crate")
        {
            path.insert(0, "self".into());
        }
        path
    }
}

impl<'ast> Visit<'ast> for Mentions {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let public = !matches!(item.vis, syn::Visibility::Inherited);
        self.push_use(public, &mut Vec::new(), &item.tree);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.inline_depth += 1;
        syn::visit::visit_item_mod(self, item);
        self.inline_depth -= 1;
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: ModPath = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments
            .first()
            .is_some_and(|s| s == "crate" || s == "super" || s == "self")
        {
            let segments = self.outside_inline_mods(segments);
            self.paths.push(segments);
        }
        syn::visit::visit_path(self, path);
    }
}

/// One crate's modules, keyed by module path (`[]` is the crate root).
struct Crate {
    files: BTreeMap<ModPath, PathBuf>,
    mentions: BTreeMap<ModPath, Mentions>,
}

impl Crate {
    fn load(src: &Path) -> Crate {
        let mut files = BTreeMap::new();
        collect_files(src, src, &mut files);
        let mentions = files
            .iter()
            .map(|(module, file)| {
                let text = std::fs::read_to_string(file).unwrap();
                let parsed = syn::parse_file(&text)
                    .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
                let mut mentions = Mentions::default();
                mentions.visit_file(&parsed);
                (module.clone(), mentions)
            })
            .collect();
        Crate { files, mentions }
    }

    /// Turns a `crate::`/`super::`/`self::`/sibling path into an absolute one.
    fn absolute(&self, module: &ModPath, path: &ModPath) -> Option<ModPath> {
        let mut base = module.clone();
        let mut rest = path.as_slice();
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("super" | "self") => {
                while let Some(head) = rest.first().map(String::as_str) {
                    match head {
                        "super" => drop(base.pop()),
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                // `use child::X` from a parent; anything else is an external crate.
                let mut child = base.clone();
                child.push(first.to_string());
                self.files.get(&child)?;
            }
            None => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The module an absolute path lands in, following `pub use` re-exports.
    fn resolve(&self, path: &ModPath, hops: usize) -> ModPath {
        for known in (0..=path.len()).rev() {
            let module = path[..known].to_vec();
            let Some(mentions) = self.mentions.get(&module) else {
                continue;
            };
            let Some(name) = path.get(known) else {
                return module;
            };
            if hops < 8 {
                for (public, target) in &mentions.uses {
                    if *public
                        && target.last() == Some(name)
                        && let Some(target) = self.absolute(&module, target)
                    {
                        let mut next = target;
                        next.extend(path[known + 1..].iter().cloned());
                        return self.resolve(&next, hops + 1);
                    }
                }
            }
            return module;
        }
        Vec::new()
    }

    /// Sibling-module edges, grouped by the parent module they live in.
    fn graphs(&self) -> BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> {
        let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (module, mentions) in &self.mentions {
            let named = mentions.uses.iter().map(|(_, p)| p).chain(&mentions.paths);
            for path in named {
                let Some(absolute) = self.absolute(module, path) else {
                    continue;
                };
                let target = self.resolve(&absolute, 0);
                let shared = module
                    .iter()
                    .zip(&target)
                    .take_while(|(a, b)| a == b)
                    .count();
                if shared == module.len() || shared == target.len() {
                    continue; // the module itself, an ancestor or a descendant
                }
                graphs
                    .entry(module[..shared].to_vec())
                    .or_default()
                    .entry(module[shared].clone())
                    .or_default()
                    .insert(target[shared].clone());
            }
        }
        graphs
    }
}

fn collect_files(src: &Path, dir: &Path, files: &mut BTreeMap<ModPath, PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(src, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: ModPath = relative
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("lib" | "main" | "mod")
            ) {
                module.pop();
            }
            files.insert(module, path);
        }
    }
}

/// Strongly connected components with more than one member (Tarjan's algorithm).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn strong<'g>(s: &mut State<'g>, v: &'g str) {
        let order = s.index.len();
        s.index.insert(v, order);
        s.low.insert(v, order);
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                strong(s, w);
                let low = s.low[v].min(s.low[w.as_str()]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w.as_str()) {
                let low = s.low[v].min(s.index[w.as_str()]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let at = s.stack.iter().position(|m| *m == v).unwrap();
            let component: Vec<String> = s.stack.drain(at..).map(str::to_string).collect();
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            strong(&mut state, v);
        }
    }
    state.found
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn no_source_file_is_longer_than_the_limit() {
    let mut too_long = Vec::new();
    for name in CRATES {
        let src = workspace_root().join(name).join("src");
        for file in Crate::load(&src).files.values() {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            if lines > MAX_LINES {
                too_long.push(format!("{} has {lines} lines", file.display()));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "files over {MAX_LINES} lines (split them by concern):\n{}",
        too_long.join("\n")
    );
}

#[test]
fn no_import_circle_between_sibling_modules() {
    let mut found = Vec::new();
    for name in CRATES {
        let krate = Crate::load(&workspace_root().join(name).join("src"));
        for (parent, graph) in krate.graphs() {
            for circle in circles(&graph) {
                let edges: Vec<String> = circle
                    .iter()
                    .flat_map(|a| {
                        graph[a]
                            .iter()
                            .filter(|b| circle.contains(b))
                            .map(move |b| format!("{a} -> {b}"))
                    })
                    .collect();
                let place = if parent.is_empty() {
                    "crate root".to_string()
                } else {
                    parent.join("::")
                };
                found.push(format!("{name} ({place}): {}", edges.join(", ")));
            }
        }
    }
    assert!(
        found.is_empty(),
        "import circles (move the shared part down a layer):\n{}",
        found.join("\n")
    );
}

/// A crate added to the workspace is checked too: the list above names every member.
#[test]
fn every_workspace_member_is_checked() {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let list = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("the workspace manifest lists its members")
        .0;
    let members: BTreeSet<&str> = list
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .collect();
    let checked: BTreeSet<&str> = CRATES.iter().copied().collect();
    assert_eq!(members, checked, "CRATES must name every workspace member");
}

/// The checker itself must catch a circle, or the two tests above prove nothing.
#[test]
fn a_planted_circle_is_found() {
    let dir = std::env::temp_dir().join(format!("structure-check-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("tier")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a; mod tier; pub use tier::Local;").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::Local; pub struct A;").unwrap();
    std::fs::write(src.join("tier/mod.rs"), "mod local; pub use local::Local;").unwrap();
    std::fs::write(src.join("tier/local.rs"), "pub struct Local(crate::a::A);").unwrap();
    let krate = Crate::load(&src);
    let graphs = krate.graphs();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        circles(&graphs[&Vec::new()]),
        vec![vec!["a".to_string(), "tier".to_string()]]
    );
}
