//! Type aliases (`type Shared = Arc<Mutex<Client>>;`): a type named through an alias reads as
//! the type it stands for. In the file that declares it the alias is expanded before the type is
//! read, its generic parameters replaced by the arguments the use gives
//! (`type Shared<T> = Arc<Mutex<T>>;`, `Shared<Client>`); the file records the type of each
//! alias (`FileIr::aliases`), which the link reads for the files that import it.
//! A file may declare thousands of aliases (`typenum`'s constants): they are looked up by name
//! and by the path they resolve to, never scanned for each type read.

use std::fmt::Write as _;

use rustc_hash::{FxHashMap, FxHashSet};
use syn::Type;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use super::Lowerer;
use crate::frontend::rust::ir::SymPath;
use crate::frontend::rust::resolve::Res;
use crate::frontend::rust::types::path_segs;

/// Most alias expansions in one type (aliases of aliases, repeated uses).
const MAX_EXPANSIONS: u32 = 16;

/// Up to this many aliases, a name is compared with each rather than looked up.
const SCAN_AT_MOST: usize = 8;

/// The type aliases a file declares, with their indexes.
#[derive(Default)]
pub(super) struct Aliases {
    /// In declaration order.
    decls: Vec<AliasDecl>,
    /// The aliases' names.
    names: FxHashSet<String>,
    /// The first alias (in declaration order) whose name resolves to each path, among those
    /// resolved so far.
    by_path: FxHashMap<SymPath, usize>,
}

impl Aliases {
    /// Whether the file declares no alias.
    pub fn is_empty(&self) -> bool {
        self.decls.is_empty()
    }

    /// Whether `ident` is the name of an alias; `buf` is scratch space for its text.
    fn named(&self, ident: &proc_macro2::Ident, buf: &mut String) -> bool {
        if self.decls.len() <= SCAN_AT_MOST {
            return self.decls.iter().any(|a| *ident == a.name);
        }
        buf.clear();
        let _ = write!(buf, "{ident}");
        self.names.contains(buf.as_str())
    }

    /// The alias whose name resolves to `sp`.
    fn at(&self, sp: &SymPath) -> Option<&AliasDecl> {
        self.by_path.get(sp).map(|&i| &self.decls[i])
    }
}

/// A type alias declared in the file.
pub(super) struct AliasDecl {
    /// Module scope of the declaration.
    pub scope: u32,
    /// The alias's name.
    pub name: String,
    /// Its generic type parameters.
    pub params: Vec<String>,
    /// The aliased type.
    pub ty: Type,
}

impl Lowerer<'_, '_> {
    /// Notes a type alias met while collecting the items of module scope `scope`.
    pub(super) fn note_alias(&mut self, t: &syn::ItemType, scope: u32) {
        self.aliases.names.insert(t.ident.to_string());
        self.aliases.decls.push(AliasDecl {
            scope,
            name: t.ident.to_string(),
            params: t
                .generics
                .type_params()
                .map(|p| p.ident.to_string())
                .collect(),
            ty: (*t.ty).clone(),
        });
    }

    /// Resolves the aliases' names once the file's scopes are known, and records the type of
    /// each for the link.
    pub(super) fn finish_aliases(&mut self) {
        for i in 0..self.aliases.decls.len() {
            let a = &self.aliases.decls[i];
            let (scope, name) = (a.scope, a.name.clone());
            let saved = std::mem::replace(&mut self.scope, scope);
            if let Res::Pkg(sp) = self.resolve(std::slice::from_ref(&name)) {
                self.aliases.by_path.entry(sp).or_insert(i);
            }
            let ty = self.aliases.decls[i].ty.clone();
            let tr = self.resolve_type(&ty);
            self.scope = saved;
            self.ir.aliases.push((scope, name, tr));
        }
    }

    /// `ty` with the file's aliases expanded, when it names one.
    pub(super) fn expand_aliases(&self, ty: &Type) -> Option<Type> {
        let mut names = Names {
            aliases: &self.aliases,
            buf: String::new(),
            found: false,
        };
        names.visit_type(ty);
        if !names.found {
            return None;
        }
        let mut out = ty.clone();
        let mut x = Expand {
            lowerer: self,
            count: 0,
        };
        x.visit_type_mut(&mut out);
        (x.count > 0).then_some(out)
    }
}

/// Whether a type mentions a path ending in the name of one of the aliases.
struct Names<'x> {
    aliases: &'x Aliases,
    buf: String,
    found: bool,
}

impl<'ast> Visit<'ast> for Names<'_> {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        if let Some(last) = p.segments.last()
            && self.aliases.named(&last.ident, &mut self.buf)
        {
            self.found = true;
        }
        if !self.found {
            syn::visit::visit_path(self, p);
        }
    }
}

struct Expand<'l, 'a, 'c> {
    lowerer: &'l Lowerer<'a, 'c>,
    count: u32,
}

impl VisitMut for Expand<'_, '_, '_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if self.count < MAX_EXPANSIONS
            && let Type::Path(p) = &*ty
            && p.qself.is_none()
            && let Res::Pkg(sp) = self.lowerer.resolve(&path_segs(&p.path))
            && let Some(a) = self.lowerer.aliases.at(&sp)
        {
            let args: Vec<Type> = match p.path.segments.last().map(|s| &s.arguments) {
                Some(syn::PathArguments::AngleBracketed(g)) => g
                    .args
                    .iter()
                    .filter_map(|g| match g {
                        syn::GenericArgument::Type(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let mut body = a.ty.clone();
            if !a.params.is_empty() {
                Substitute {
                    params: &a.params,
                    args: &args,
                }
                .visit_type_mut(&mut body);
            }
            *ty = body;
            self.count += 1;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// Replaces an alias's generic parameters by the arguments of its use (a parameter with no
/// argument stays, and reads as an unknown type).
struct Substitute<'p> {
    params: &'p [String],
    args: &'p [Type],
}

impl VisitMut for Substitute<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(p) = &*ty
            && p.qself.is_none()
            && let Some(id) = p.path.get_ident()
            && let Some(i) = self.params.iter().position(|n| id == n)
            && let Some(arg) = self.args.get(i)
        {
            *ty = arg.clone();
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}
