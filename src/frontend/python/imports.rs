//! Import aliases and qualified names: `import a.b as x`, `from .client import http`, and the
//! dotted paths of `Name`/`Attribute` chains.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::{Expr, StmtImport, StmtImportFrom};

use super::project::resolve_relative;

/// Local names bound by import statements, mapped to dotted paths.
#[derive(Debug, Default, Clone)]
pub struct Imports {
    map: HashMap<String, String>,
}

impl Imports {
    /// Records an `import` statement.
    pub fn add_import(&mut self, stmt: &StmtImport) {
        for alias in &stmt.names {
            let full = alias.name.id.as_str();
            match &alias.asname {
                Some(asname) => {
                    self.map.insert(asname.id.to_string(), full.to_string());
                }
                None => {
                    // `import a.b.c` binds `a`.
                    let first = full.split('.').next().unwrap_or(full);
                    self.map.insert(first.to_string(), first.to_string());
                }
            }
        }
    }

    /// Records a `from .. import ..` statement of module `current`. Returns the bound names
    /// with their paths (star imports bind nothing).
    pub fn add_from(
        &mut self,
        stmt: &StmtImportFrom,
        current: &str,
        is_package: bool,
    ) -> Vec<(String, String)> {
        let module = stmt.module.as_ref().map(|m| m.id.as_str());
        let base = if stmt.level > 0 {
            resolve_relative(current, is_package, stmt.level, module)
        } else {
            module.unwrap_or("").to_string()
        };
        let mut bound = Vec::new();
        for alias in &stmt.names {
            let name = alias.name.id.as_str();
            if name == "*" {
                continue;
            }
            let local = alias.asname.as_ref().map(|a| a.id.as_str()).unwrap_or(name);
            let path = if base.is_empty() {
                name.to_string()
            } else {
                dotted(&base, name)
            };
            self.map.insert(local.to_string(), path.clone());
            bound.push((local.to_string(), path));
        }
        bound
    }

    /// The dotted path a local name was imported as.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// How many names the imports bound.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no import bound a name.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether any import bound `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// Iterates over `(local name, dotted path)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Maximum length of an attribute chain that is qualified.
const MAX_CHAIN: usize = 12;

/// A `Name` followed by attributes (`a.b.c`), borrowed from the syntax tree.
#[derive(Debug, Clone, Copy)]
pub struct Chain<'a> {
    attrs: [&'a str; MAX_CHAIN],
    len: usize,
}

impl<'a> Chain<'a> {
    /// The attribute names after the base, in order.
    pub fn attrs(&self) -> &[&'a str] {
        &self.attrs[..self.len]
    }
}

/// Splits `a.b.c` into `("a", ["b", "c"])`; `None` for anything but a name followed by
/// attributes.
#[inline]
pub fn attr_chain(expr: &Expr) -> Option<(&str, ChainAttrs<'_>)> {
    // The length first (and whether a name ends the chain), then the names in order.
    let mut n = 0;
    let mut cur = expr;
    let base = loop {
        match cur {
            Expr::Name(name) => break name.id.as_str(),
            Expr::Attribute(a) => {
                if n >= MAX_CHAIN {
                    return None;
                }
                n += 1;
                cur = &a.value;
            }
            _ => return None,
        }
    };
    let mut chain = Chain {
        attrs: [""; MAX_CHAIN],
        len: n,
    };
    let mut cur = expr;
    while let Expr::Attribute(a) = cur {
        n -= 1;
        chain.attrs[n] = a.attr.id.as_str();
        cur = &a.value;
    }
    Some((base, ChainAttrs(chain)))
}

/// The attributes of a [`Chain`], usable as a slice.
#[derive(Debug, Clone, Copy)]
pub struct ChainAttrs<'a>(Chain<'a>);

impl<'a> std::ops::Deref for ChainAttrs<'a> {
    type Target = [&'a str];
    fn deref(&self) -> &[&'a str] {
        self.0.attrs()
    }
}

/// `a.b`, without the formatting machinery.
pub fn dotted(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + 1 + b.len());
    s.push_str(a);
    s.push('.');
    s.push_str(b);
    s
}

/// Joins a base path and attribute names with dots.
pub fn join_path(base: &str, attrs: &[&str]) -> String {
    let mut s =
        String::with_capacity(base.len() + attrs.iter().map(|a| a.len() + 1).sum::<usize>());
    s.push_str(base);
    for a in attrs {
        s.push('.');
        s.push_str(a);
    }
    s
}

/// Whether `path` names something inside one of the project's modules.
pub fn in_project(path: &str, modules: &ModuleSet) -> bool {
    let mut end = path.len();
    loop {
        if modules.contains(&path[..end]) {
            return true;
        }
        match super::scope::last_dot(&path[..end]) {
            Some(i) => end = i,
            None => return false,
        }
    }
}

/// The set of module names of a project (canonical names and aliases).
pub type ModuleSet = rustc_hash::FxHashSet<String>;

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_ast::Stmt;

    fn imports_of(src: &str, current: &str) -> Imports {
        let parsed = ruff_python_parser::parse_module(src).expect("parses");
        let mut imports = Imports::default();
        for stmt in parsed.suite() {
            match stmt {
                Stmt::Import(i) => imports.add_import(i),
                Stmt::ImportFrom(f) => {
                    imports.add_from(f, current, false);
                }
                _ => {}
            }
        }
        imports
    }

    #[test]
    fn aliases_and_relative_imports() {
        let i = imports_of(
            "import asyncio\nimport httpx as h\nimport os.path\nfrom .client import http as c\nfrom asyncio import run\n",
            "pkg.app",
        );
        assert_eq!(i.get("asyncio"), Some("asyncio"));
        assert_eq!(i.get("h"), Some("httpx"));
        assert_eq!(i.get("os"), Some("os"));
        assert_eq!(i.get("c"), Some("pkg.client.http"));
        assert_eq!(i.get("run"), Some("asyncio.run"));
    }

    #[test]
    fn project_membership_by_prefix() {
        let mut m = ModuleSet::default();
        m.insert("pkg.client".into());
        assert!(in_project("pkg.client.http.get", &m));
        assert!(!in_project("pkg.clientx", &m));
        assert!(!in_project("httpx.AsyncClient", &m));
    }
}
