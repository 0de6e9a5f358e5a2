//! Name resolution inside one file: `use` maps (aliases, groups, renames, globs), the items of
//! each module scope, `crate::`/`self::`/`super::`, the package's own crate names, and the
//! standard prelude. A path resolves to an external full path (looked up in the knowledge base)
//! or to a symbolic package path that `link` resolves across files.

use rustc_hash::FxHashMap as HashMap;

use syn::UseTree;

use super::ir::{Anchor, ItemIr, SymPath};
use super::kbview::KbView;

/// What a path denotes, as far as one file can tell.
#[derive(Clone, Debug)]
pub enum Res {
    /// An item outside the package, by full path.
    Ext(String),
    /// A package path to resolve at link time.
    Pkg(SymPath),
    /// A function of this file (local id).
    Fn(u32),
    /// A static of this file.
    Static(u32),
    /// Nothing known.
    Unknown,
}

/// The names visible in one module scope.
#[derive(Debug, Default)]
pub struct ScopeMap {
    /// Items declared in the scope.
    pub items: HashMap<String, ItemIr>,
    /// Names declared more than once as functions in the scope (each under its own `#[cfg]`):
    /// a call names all of them, and the link resolves it to each.
    pub repeated: std::collections::HashSet<String>,
    /// `use` imports: name to the imported path, as written.
    pub uses: HashMap<String, Vec<String>>,
    /// Glob imports of external paths (`use tokio::runtime::*`).
    pub ext_globs: Vec<String>,
    /// Whether the scope glob-imports package modules.
    pub pkg_globs: bool,
    /// Scopes of the same file that the scope glob-imports (`use super::*` in an inline
    /// `mod tests`): their `use` imports are visible here too.
    pub local_globs: Vec<u32>,
    /// Parent scope (inline modules).
    pub parent: Option<u32>,
}

/// Flattens a `use` tree into `(name, path)` imports and glob paths.
pub fn flatten_use(
    tree: &UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(String, Vec<String>)>,
    globs: &mut Vec<Vec<String>>,
    depth: u32,
) {
    if depth > 32 {
        return;
    }
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out, globs, depth + 1);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                if let Some(last) = prefix.last() {
                    out.push((last.clone(), prefix.clone()));
                }
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                out.push((name, path));
            }
        }
        UseTree::Rename(r) => {
            let alias = r.rename.to_string();
            if alias == "_" {
                return;
            }
            let name = r.ident.to_string();
            let mut path = prefix.clone();
            if name != "self" {
                path.push(name);
            }
            out.push((alias, path));
        }
        UseTree::Glob(_) => globs.push(prefix.clone()),
        UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out, globs, depth + 1);
            }
        }
    }
}

/// Full paths of prelude names that matter to the frontend.
pub fn prelude(name: &str) -> Option<&'static str> {
    Some(match name {
        "drop" => "std::mem::drop",
        "Box" => "std::boxed::Box",
        "Vec" => "std::vec::Vec",
        "String" => "std::string::String",
        "Option" => "std::option::Option",
        "Result" => "std::result::Result",
        _ => return None,
    })
}

/// Resolution context of one file.
pub struct Resolver<'a> {
    /// Scope maps, indexed like the file's module scopes.
    pub maps: &'a [ScopeMap],
    /// Crate names of the program visible to the file's package.
    pub crates: &'a [(String, u32)],
    /// The knowledge base, for external glob imports.
    pub kb: &'a KbView<'a>,
}

fn pkg(anchor: Anchor, rest: &[String]) -> Res {
    Res::Pkg(SymPath {
        anchor,
        segs: rest.to_vec(),
    })
}

impl Resolver<'_> {
    /// Classifies an absolute path (a `use` target): keywords, local items and crate names
    /// make a package path; anything else is external.
    pub fn classify(&self, scope: u32, segs: &[String]) -> Res {
        let Some(first) = segs.first() else {
            return Res::Unknown;
        };
        match first.as_str() {
            "crate" => return pkg(Anchor::Crate, &segs[1..]),
            "self" => return pkg(Anchor::Module { scope, up: 0 }, &segs[1..]),
            "super" => {
                let up = segs.iter().take_while(|s| *s == "super").count();
                return pkg(
                    Anchor::Module {
                        scope,
                        up: up as u32,
                    },
                    &segs[up..],
                );
            }
            "std" | "core" | "alloc" => return Res::Ext(segs.join("::")),
            _ => {}
        }
        if let Some(map) = self.maps.get(scope as usize)
            && map.items.contains_key(first)
        {
            return pkg(Anchor::Module { scope, up: 0 }, segs);
        }
        if self.crates.iter().any(|(n, _)| n == first) {
            return pkg(Anchor::Named(first.clone()), &segs[1..]);
        }
        // A module the scope glob-imports (`use super::*; use ledger::Ledger;`).
        if let Some(map) = self.maps.get(scope as usize)
            && map.pkg_globs
            && segs.len() > 1
            && !self.kb.knows_root(first)
        {
            return pkg(Anchor::Glob { scope }, segs);
        }
        Res::Ext(segs.join("::"))
    }

    /// The library API `segs` names through a glob import of an external path of the scope
    /// (`use tokio::runtime::*`), when the knowledge base knows it.
    fn through_ext_globs(&self, map: &ScopeMap, segs: &[String]) -> Option<Res> {
        map.ext_globs.iter().find_map(|g| {
            let cand = format!("{g}::{}", segs.join("::"));
            (!self.kb.apis(&cand).is_empty()).then_some(Res::Ext(cand))
        })
    }

    /// What `segs` names through the `use` imports of scope `scope` when another scope of the
    /// file glob-imports it; `None` for the scope's own items (the link resolves those through
    /// the glob) and for names it does not import.
    fn imported(&self, scope: u32, segs: &[String], depth: u32) -> Option<Res> {
        let map = self.maps.get(scope as usize)?;
        let first = segs.first()?;
        if depth > 8 || map.items.contains_key(first) {
            return None;
        }
        if map.uses.contains_key(first) {
            return Some(self.resolve(scope, segs));
        }
        if let Some(r) = self.through_ext_globs(map, segs) {
            return Some(r);
        }
        map.local_globs
            .iter()
            .find_map(|&s| self.imported(s, segs, depth + 1))
    }

    /// Resolves a path written in module scope `scope`.
    pub fn resolve(&self, scope: u32, segs: &[String]) -> Res {
        let Some(first) = segs.first() else {
            return Res::Unknown;
        };
        if matches!(
            first.as_str(),
            "crate" | "self" | "super" | "std" | "core" | "alloc"
        ) {
            return self.classify(scope, segs);
        }
        let Some(map) = self.maps.get(scope as usize) else {
            return Res::Unknown;
        };
        if let Some(target) = map.uses.get(first) {
            let mut full = target.clone();
            full.extend_from_slice(&segs[1..]);
            // A `use` target that names an import of the same scope (`use runtime::Builder`
            // after `use tokio::runtime`) is followed once.
            if let Some(inner) = target.first()
                && inner != first
                && !map.items.contains_key(inner)
                && let Some(t2) = map.uses.get(inner)
            {
                let mut f2 = t2.clone();
                f2.extend_from_slice(&full[1..]);
                return self.classify(scope, &f2);
            }
            return self.classify(scope, &full);
        }
        if let Some(item) = map.items.get(first) {
            if segs.len() == 1 && !map.repeated.contains(first) {
                match item {
                    ItemIr::Fn(id) => return Res::Fn(*id),
                    ItemIr::Static(id) => return Res::Static(*id),
                    _ => {}
                }
            }
            return pkg(Anchor::Module { scope, up: 0 }, segs);
        }
        if self.crates.iter().any(|(n, _)| n == first) {
            return pkg(Anchor::Named(first.clone()), &segs[1..]);
        }
        if segs.len() == 1
            && let Some(p) = prelude(first)
        {
            return Res::Ext(p.to_string());
        }
        if first == "Box" {
            let mut full = "std::boxed::Box".to_string();
            for s in &segs[1..] {
                full.push_str("::");
                full.push_str(s);
            }
            return Res::Ext(full);
        }
        if let Some(r) = self.through_ext_globs(map, segs) {
            return r;
        }
        for &s in &map.local_globs {
            if let Some(r) = self.imported(s, segs, 0) {
                return r;
            }
        }
        // Through a glob import of package modules (`use super::*`), a path may start at a
        // module of the package (`ledger::open()`); a crate the knowledge base knows stays
        // external.
        let type_like = first.starts_with(|c: char| c.is_ascii_uppercase());
        if map.pkg_globs && (segs.len() == 1 || type_like || !self.kb.knows_root(first)) {
            return pkg(Anchor::Glob { scope }, segs);
        }
        if segs.len() == 1 {
            return Res::Unknown;
        }
        Res::Ext(segs.join("::"))
    }
}
